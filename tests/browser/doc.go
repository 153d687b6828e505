// Package browser runs headless Chromium for the end-to-end tests, driven
// from Go with chromedp: the agent workbench, the supervisor pages and the
// admin console are tested in a real browser, and a seat's microphone is a
// WAV file (Chromium's fake capture device) so a test can send a tone from
// the browser and detect it at the far end.
//
// New starts one browser per test and returns its chromedp context; the
// browser stops when the test ends. Console messages of the page go to the
// test log, and a failed test leaves a screenshot in the artifacts
// directory (see harness.ArtifactsDir).
//
// The package is for tests only (it imports testing). It must not import
// any package of the appliance (config, media, pbx, webui, appliance): the
// browser sees the box from outside, through HTTPS, as a person does.
package browser
