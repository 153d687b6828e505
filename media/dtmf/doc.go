// Package dtmf turns key presses into the three forms a PBX meets them in
// and back: RFC 4733 telephone-event packets (Receiver, EventPackets),
// in-band dual tones in 8 kHz audio (Tone, Detector), and the digits
// themselves (Code, Digit, Event) that the call layer hands to SIP INFO,
// the IVR and the workbench.
//
// It works on payloads and samples only: sending and receiving packets is
// media/rtp's, deciding which form a leg wants is the call layer's. It
// imports nothing of the appliance (only its tests use media/codec, for
// G.711); never media/rtp, pbx or webui.
package dtmf
