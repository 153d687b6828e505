package store

import "errors"

// FeatureCodes is the table of codes a phone dials to use a feature. An
// empty code disables its feature. The codes share the dial space with
// the numbering plan; provision.CheckFeatureCodes holds the rules.
type FeatureCodes struct {
	ForwardAlwaysOn    string `json:"forward_always_on"`     // + number; default *72
	ForwardAlwaysOff   string `json:"forward_always_off"`    // default *73
	ForwardBusyOn      string `json:"forward_busy_on"`       // + number; default *90
	ForwardBusyOff     string `json:"forward_busy_off"`      // default *91
	ForwardNoAnswerOn  string `json:"forward_no_answer_on"`  // + number; default *52
	ForwardNoAnswerOff string `json:"forward_no_answer_off"` // default *53
	DNDOn              string `json:"dnd_on"`                // default *78
	DNDOff             string `json:"dnd_off"`               // default *79
	GroupPickup        string `json:"group_pickup"`          // default *8
	DirectedPickup     string `json:"directed_pickup"`       // + extension; default **
}

// DefaultFeatureCodes is the table of a box whose admin changed none, the
// codes most desk-phone users already know.
func DefaultFeatureCodes() FeatureCodes {
	return FeatureCodes{
		ForwardAlwaysOn:    "*72",
		ForwardAlwaysOff:   "*73",
		ForwardBusyOn:      "*90",
		ForwardBusyOff:     "*91",
		ForwardNoAnswerOn:  "*52",
		ForwardNoAnswerOff: "*53",
		DNDOn:              "*78",
		DNDOff:             "*79",
		GroupPickup:        "*8",
		DirectedPickup:     "**",
	}
}

// FeatureCode is one row of the table.
type FeatureCode struct {
	Key         string `json:"key"`          // the JSON name of the field: "forward_always_on"
	Code        string `json:"code"`         // "" = disabled
	TakesNumber bool   `json:"takes_number"` // dialled as code + number (*721002)
	Description string `json:"description"`  // English; the UI translates by Key
}

// Table lists the codes in a fixed order (the order of the struct), the
// form the API, the docs and the call layer's matcher read.
func (fc FeatureCodes) Table() []FeatureCode {
	return []FeatureCode{
		{"forward_always_on", fc.ForwardAlwaysOn, true, "Forward all calls to the number dialled after the code"},
		{"forward_always_off", fc.ForwardAlwaysOff, false, "Cancel forwarding of all calls"},
		{"forward_busy_on", fc.ForwardBusyOn, true, "Forward calls when busy (or on DND) to the number dialled after the code"},
		{"forward_busy_off", fc.ForwardBusyOff, false, "Cancel forwarding when busy"},
		{"forward_no_answer_on", fc.ForwardNoAnswerOn, true, "Forward unanswered calls to the number dialled after the code"},
		{"forward_no_answer_off", fc.ForwardNoAnswerOff, false, "Cancel forwarding of unanswered calls"},
		{"dnd_on", fc.DNDOn, false, "Do not disturb: callers get busy (or the busy forward)"},
		{"dnd_off", fc.DNDOff, false, "Cancel do not disturb"},
		{"group_pickup", fc.GroupPickup, false, "Answer the longest-ringing call in your pickup group"},
		{"directed_pickup", fc.DirectedPickup, true, "Answer the call ringing at the extension dialled after the code"},
	}
}

// FeatureCodes returns the feature-code table; DefaultFeatureCodes when
// none was ever stored.
func (tx *Tx) FeatureCodes() (FeatureCodes, error) {
	var fc FeatureCodes
	err := tx.getJSON([]byte(keyFeatureCodes), &fc)
	if errors.Is(err, ErrNotFound) {
		return DefaultFeatureCodes(), nil
	}
	return fc, err
}

// PutFeatureCodes replaces the whole table (the store checks nothing;
// provision.CheckFeatureCodes holds the rules).
func (tx *Tx) PutFeatureCodes(fc FeatureCodes) error {
	return tx.putJSON([]byte(keyFeatureCodes), fc, 0)
}
