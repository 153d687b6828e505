// Package event is the appliance's one in-process event stream.
//
// Every change that a browser, a report writer or a metric cares about is
// published here as an Event: {seq, time, type, subject, data}. Seq only ever
// increases, so a consumer that sees a gap knows it missed something and takes
// a fresh snapshot instead of trusting a stale view; publishing never blocks on
// a slow consumer (a full subscription drops events, and the gap tells it so).
//
// The package imports nothing of the appliance: pbx, webui and appliance import it.
package event
