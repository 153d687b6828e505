package provision

// validateRouting checks the trunk and routing sections' values, each
// problem at its document path.
func (d Document) validateRouting() []error {
	var errs []error
	under := func(base string, err error) {
		for _, fe := range splitFieldErrors(err) {
			path := subPath(base, fe.Path)
			errs = append(errs, d.fieldError(path, "%s", fe.Problem))
		}
	}
	for _, name := range sortedNames(d.Trunks) {
		t := d.Trunks[name]
		path := "trunks." + name
		under(path, CheckObjectName(name))
		under(path, CheckTrunk(trunkToStore(name, t)))
		if t.Secret != "" {
			under(path+".secret", CheckTrunkSecret(t.Secret))
		}
	}
	for _, number := range sortedNames(d.DIDs) {
		under("dids."+number, CheckDID(didToStore(number, d.DIDs[number])))
	}
	if dd := d.InboundDefault; dd != nil && dd.Type != destinationNone {
		under("inbound_default", CheckDestination(destinationToStore(*dd)))
	}
	for _, name := range sortedNames(d.OutboundRoutes) {
		path := "outbound_routes." + name
		under(path, CheckObjectName(name))
		under(path, CheckOutboundRoute(routeToStore(name, d.OutboundRoutes[name])))
	}
	for _, name := range sortedNames(d.CallerPools) {
		path := "caller_pools." + name
		under(path, CheckObjectName(name))
		under(path, CheckCallerPool(poolToStore(name, d.CallerPools[name])))
	}
	seen := map[string]int{}
	for i, e := range d.Blacklist {
		path := index("blacklist", i)
		under(path, CheckBlacklistEntry(blacklistToStore(e)))
		key := e.Number + "/" + e.Direction
		if first, dup := seen[key]; dup {
			errs = append(errs, d.fieldError(path, "%s (%s) is already blacklist[%d]", e.Number, e.Direction, first))
			continue
		}
		seen[key] = i
	}
	if d.OutboundPolicy != nil {
		p, convErrs := policyToStore(*d.OutboundPolicy)
		for _, e := range convErrs {
			under("outbound_policy", e)
		}
		if len(convErrs) == 0 {
			under("outbound_policy", CheckOutboundPolicy(p))
		}
	}
	return errs
}
