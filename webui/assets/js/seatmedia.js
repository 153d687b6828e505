// The browser side of a seat's media: the microphone, the one
// RTCPeerConnection the seat keeps while online, the remote audio (played
// and analysed) and the tones the page makes itself (ring, ring-back).
// It knows nothing of the WebSocket: the page passes SDP and candidates.

// MicError is what acquireMic throws: reason is the #mic-error data-reason
// ("denied", "no-device", "insecure", "other"); detail is the browser's own
// message, shown for "other".
export class MicError extends Error {
  constructor(reason, detail = "") {
    super(detail || reason);
    this.name = "MicError";
    this.reason = reason;
    this.detail = detail;
  }
}

// micErrorReason maps a getUserMedia failure to a MicError reason.
export function micErrorReason(err) {
  switch (err && err.name) {
    case "NotAllowedError":
    case "SecurityError":
    case "PermissionDeniedError": // older Chromium
      return "denied";
    case "NotFoundError":
    case "DevicesNotFoundError": // older Chromium
    case "OverconstrainedError":
      return "no-device";
  }
  return "other";
}

// Tones. The ring tone is the North American cadence (440+480 Hz, 2 s on,
// 4 s off), distinct from the ring-back the Chinese network plays
// (450 Hz, 1 s on, 4 s off), so an agent never mistakes one for the other.
export const RING_TONE = { freqs: [440, 480], onMs: 2000, offMs: 4000, level: 0.12 };
export const RINGBACK_TONE = { freqs: [450], onMs: 1000, offMs: 4000, level: 0.06 };

// ANALYSER_FFT is the remote-audio analyser's FFT size: ~5.9 Hz bins at
// 48 kHz, narrow enough to tell DTMF and test tones apart.
const ANALYSER_FFT = 8192;

// DTMF_DURATION_MS and DTMF_GAP_MS are each dialpad digit's tone and pause.
const DTMF_DURATION_MS = 100;
const DTMF_GAP_MS = 70;

export class SeatMedia {
  constructor() {
    this.ctx = null; // AudioContext, made on the first user gesture
    this.mic = null; // MediaStream from getUserMedia
    this.pc = null;
    this.sender = null; // the audio transceiver's RTCRtpSender
    this.sending = false; // the mic track is on the sender
    this.remote = null; // remote MediaStream
    this.analyser = null;
    this.remoteSource = null;
    this.tone = null; // {kind, timer, oscillators, gain}
  }

  // unlockAudio creates or resumes the AudioContext. Call it from a click
  // handler before any await: browsers let a page start audio only from a
  // user gesture, and the first call of the day must still ring.
  unlockAudio() {
    const Ctx = window.AudioContext || window.webkitAudioContext;
    if (!Ctx) return;
    if (!this.ctx) this.ctx = new Ctx();
    if (this.ctx.state === "suspended") this.ctx.resume().catch(() => {});
  }

  // acquireMic opens the microphone (kept until release). It throws a
  // MicError the page turns into its error page.
  async acquireMic() {
    if (this.mic && this.mic.getAudioTracks().some((tr) => tr.readyState === "live")) return this.mic;
    if (!window.isSecureContext) throw new MicError("insecure");
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      throw new MicError("other", "getUserMedia is not available in this browser");
    }
    try {
      // Echo cancellation, noise suppression and gain control stay at the
      // browser's defaults (on): a headset call wants all three.
      this.mic = await navigator.mediaDevices.getUserMedia({ audio: true, video: false });
    } catch (err) {
      throw new MicError(micErrorReason(err), (err && (err.message || err.name)) || "");
    }
    return this.mic;
  }

  get micTrack() {
    return (this.mic && this.mic.getAudioTracks()[0]) || null;
  }

  // setMuted turns the microphone track off or on (the far end then hears
  // silence; the sender keeps sending, so nothing is renegotiated).
  setMuted(muted) {
    const track = this.micTrack;
    if (track) track.enabled = !muted;
  }

  // createOffer builds the seat's one PeerConnection: one audio transceiver,
  // sendrecv, with no track until a call starts. handlers: onCandidate(c)
  // (null at the end), onState(connectionState), onRemote(stream).
  async createOffer({ onCandidate, onState, onRemote }) {
    this.closePeer();
    const pc = new RTCPeerConnection({ iceServers: [], bundlePolicy: "max-bundle" });
    this.pc = pc;
    const transceiver = pc.addTransceiver("audio", { direction: "sendrecv" });
    this.sender = transceiver.sender;
    this.sending = false;
    preferG711(transceiver);
    pc.onicecandidate = (ev) => {
      if (this.pc === pc) onCandidate(ev.candidate || null);
    };
    pc.onconnectionstatechange = () => {
      if (this.pc === pc) onState(pc.connectionState);
    };
    pc.ontrack = (ev) => {
      if (this.pc !== pc) return;
      const stream = (ev.streams && ev.streams[0]) || new MediaStream([ev.track]);
      this.attachRemote(stream);
      onRemote(stream);
    };
    const offer = await pc.createOffer();
    await pc.setLocalDescription(offer);
    return pc.localDescription.sdp;
  }

  async applyAnswer(sdp) {
    if (!this.pc) return;
    await this.pc.setRemoteDescription({ type: "answer", sdp });
  }

  // sendMic puts the microphone on the sender (on) or takes it off (off):
  // replaceTrack, no renegotiation, so a call starts without a round trip.
  async sendMic(on) {
    if (!this.sender || on === this.sending) return;
    this.sending = on;
    try {
      await this.sender.replaceTrack(on ? this.micTrack : null);
    } catch (err) {
      this.sending = !on;
      throw err;
    }
  }

  // sendDigit plays one DTMF digit in the media (RFC 4733 events).
  sendDigit(digit) {
    const dtmf = this.sender && this.sender.dtmf;
    if (!dtmf || (typeof dtmf.canInsertDTMF === "boolean" && !dtmf.canInsertDTMF)) return false;
    dtmf.insertDTMF(digit, DTMF_DURATION_MS, DTMF_GAP_MS);
    return true;
  }

  // attachRemote plays the remote stream through the page's <audio> and
  // feeds it to an analyser. Chromium only delivers a remote WebRTC stream
  // to WebAudio while an element is also playing it, hence both.
  attachRemote(stream) {
    this.remote = stream;
    const audio = document.getElementById("remote-audio");
    if (audio) {
      audio.srcObject = stream;
      audio.play().catch(() => {});
    }
    if (!this.ctx) return;
    if (this.remoteSource) this.remoteSource.disconnect();
    if (!this.analyser) {
      this.analyser = this.ctx.createAnalyser();
      this.analyser.fftSize = ANALYSER_FFT;
      this.analyser.smoothingTimeConstant = 0.5;
      // The analyser must be pulled to run; a silent gain keeps it in the
      // graph without playing the remote audio twice.
      const sink = this.ctx.createGain();
      sink.gain.value = 0;
      this.analyser.connect(sink).connect(this.ctx.destination);
    }
    this.remoteSource = this.ctx.createMediaStreamSource(stream);
    this.remoteSource.connect(this.analyser);
  }

  // remoteLevel is the level in dB of freqHz in the remote audio: the
  // loudest FFT bin within one bin of it (-200 when there is no audio).
  remoteLevel(freqHz) {
    if (!this.analyser || !this.ctx) return -200;
    const bins = new Float32Array(this.analyser.frequencyBinCount);
    this.analyser.getFloatFrequencyData(bins);
    const width = this.ctx.sampleRate / this.analyser.fftSize;
    const center = Math.round(freqHz / width);
    let best = -Infinity;
    for (let i = Math.max(0, center - 1); i <= Math.min(bins.length - 1, center + 1); i++) {
      if (bins[i] > best) best = bins[i];
    }
    return Number.isFinite(best) ? best : -200;
  }

  // startTone plays one of the cadenced tones until stopTone (or another
  // startTone). kind names it for toneKind.
  startTone(kind, spec) {
    if (this.tone && this.tone.kind === kind) return;
    this.stopTone();
    if (!this.ctx) return;
    const ctx = this.ctx;
    if (ctx.state === "suspended") ctx.resume().catch(() => {});
    const gain = ctx.createGain();
    gain.gain.value = 0;
    gain.connect(ctx.destination);
    const oscillators = spec.freqs.map((f) => {
      const osc = ctx.createOscillator();
      osc.frequency.value = f;
      osc.connect(gain);
      osc.start();
      return osc;
    });
    const level = spec.level / spec.freqs.length;
    const cycle = () => {
      const now = ctx.currentTime;
      gain.gain.cancelScheduledValues(now);
      gain.gain.setValueAtTime(level, now);
      gain.gain.setValueAtTime(0, now + spec.onMs / 1000);
    };
    cycle();
    const timer = setInterval(cycle, spec.onMs + spec.offMs);
    this.tone = { kind, timer, oscillators, gain };
  }

  stopTone(kind) {
    const tone = this.tone;
    if (!tone || (kind && tone.kind !== kind)) return;
    this.tone = null;
    clearInterval(tone.timer);
    for (const osc of tone.oscillators) {
      try {
        osc.stop();
      } catch {
        // Already stopped.
      }
      osc.disconnect();
    }
    tone.gain.disconnect();
  }

  toneKind() {
    return this.tone ? this.tone.kind : "";
  }

  closePeer() {
    const pc = this.pc;
    this.pc = null;
    this.sender = null;
    this.sending = false;
    if (this.remoteSource) {
      this.remoteSource.disconnect();
      this.remoteSource = null;
    }
    this.remote = null;
    const audio = document.getElementById("remote-audio");
    if (audio) audio.srcObject = null;
    if (pc) {
      pc.onicecandidate = pc.onconnectionstatechange = pc.ontrack = null;
      pc.close();
    }
  }

  // release ends everything: peer, microphone, tones.
  release() {
    this.closePeer();
    this.stopTone();
    if (this.mic) {
      for (const track of this.mic.getTracks()) track.stop();
      this.mic = null;
    }
  }
}

// preferG711 offers only what the box speaks (PCMU, PCMA and
// telephone-event at 8 kHz): a shorter offer, and no chance of a codec the
// box would have to transcode.
function preferG711(transceiver) {
  if (!transceiver.setCodecPreferences || !window.RTCRtpReceiver || !RTCRtpReceiver.getCapabilities) return;
  const caps = RTCRtpReceiver.getCapabilities("audio");
  if (!caps) return;
  const order = ["audio/pcmu", "audio/pcma", "audio/telephone-event"];
  const codecs = caps.codecs
    .filter((c) => order.includes(c.mimeType.toLowerCase()) && c.clockRate === 8000)
    .sort((a, b) => order.indexOf(a.mimeType.toLowerCase()) - order.indexOf(b.mimeType.toLowerCase()));
  if (!codecs.some((c) => c.mimeType.toLowerCase() !== "audio/telephone-event")) return;
  try {
    transceiver.setCodecPreferences(codecs);
  } catch {
    // Browsers that refuse the list offer everything; the box picks G.711.
  }
}
