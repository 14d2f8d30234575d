// The live page: camera frames to the server over a WebSocket, the coach's state back,
// drawn over the picture and spoken (Web Speech API), one thing at a time.
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);
  const params = new URLSearchParams(location.search);
  const SEND_SIDE = 640;        // frames go to the server at most 640 px wide (640x480 from a 4:3 camera)
  const MAX_IN_FLIGHT = 2;      // frames sent and not yet answered: one being analysed, one waiting
  const JPEG_QUALITY = 0.7;
  const NUMBERS = ["one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"];
  const BONES = [[11, 12], [11, 13], [13, 15], [12, 14], [14, 16], [11, 23], [12, 24], [23, 24], [23, 25], [25, 27],
                 [27, 29], [27, 31], [24, 26], [26, 28], [28, 30], [28, 32], [0, 7], [0, 8]];

  const flatback = {
    state: { rep_count: 0, phase: "none", cue: null, back: "unknown", fps: 0, tempo_count: 0, latency_ms: null,
             running: false, setup: [], mode: params.get("mode") || "set" },
    spoken: [], summary: null, errors: [], config: null,
  };
  window.flatback = flatback;

  // --- speech: one utterance at a time, the most important waiting one next ---------------
  class Speaker {
    constructor() { this.muted = params.get("mute") === "1"; this.busy = false; this.pending = null; this.last = {}; this.repeatS = 6; }
    say(text, priority, key, maxAgeS) {
      if (this.muted || !window.speechSynthesis) return;
      const now = performance.now() / 1000;
      if (key && this.last[key] !== undefined && now - this.last[key] < this.repeatS) return;
      const item = { text, priority, key, expires: now + (maxAgeS || 3) };
      if (!this.busy) return this.speak(item);
      if (!this.pending || priority <= this.pending.priority || now > this.pending.expires) this.pending = item;
    }
    speak(item) {
      this.busy = true;
      if (item.key) this.last[item.key] = performance.now() / 1000;
      const u = new SpeechSynthesisUtterance(item.text);
      u.rate = 1.05;
      const done = () => { if (u._done) return; u._done = true; clearTimeout(u._timer); this.busy = false; this.next(); };
      u.onend = done; u.onerror = done;
      // some engines (no voice installed) never end an utterance: give up waiting after a generous estimate
      u._timer = setTimeout(done, Math.max(1500, 200 * item.text.split(/\s+/).length * 2));
      flatback.spoken.push(item.text);
      window.speechSynthesis.speak(u);
    }
    next() {
      const p = this.pending; this.pending = null;
      if (p && performance.now() / 1000 <= p.expires) this.speak(p);
    }
    setMuted(m) {
      this.muted = m; this.pending = null;
      if (m && window.speechSynthesis) window.speechSynthesis.cancel();
      this.busy = false;
    }
  }
  const speaker = new Speaker();
  flatback.speaker = speaker;

  // --- the page's state -------------------------------------------------------------------
  const video = $("video"), view = $("view"), ctx = view.getContext("2d");
  const grab = document.createElement("canvas"), gctx = grab.getContext("2d");
  let cameraAsked = false;
  let ws = null, inFlight = 0, last = null, times = [], latencies = [], hello = null, cameraReady = false, wantStart = params.get("autostart") === "1";
  let prevPhase = "none", prevTempo = 0, prevCue = null, prevReps = 0;

  function setStatus(text, isError) { $("status").textContent = text; $("status").className = isError ? "error" : "muted"; }

  function connect() {
    const mode = $("mode").value, target = $("target").value;
    ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws/live?mode=" + mode + "&target=" + target);
    ws.binaryType = "arraybuffer";
    ws.onopen = () => { $("conn").textContent = "connected"; };
    ws.onclose = (e) => { $("conn").textContent = "disconnected" + (e.reason ? ": " + e.reason : ""); inFlight = 0; };
    ws.onmessage = (e) => onMessage(JSON.parse(e.data));
  }

  function send(obj) { if (ws && ws.readyState === 1) ws.send(JSON.stringify(obj)); }

  function onMessage(m) {
    if (m.type === "state") return onState(m);
    if (m.type === "hello") {
      hello = m; flatback.config = m; speaker.repeatS = m.cue_repeat_s;
      $("goal").textContent = m.target; $("hold-goal").textContent = Math.round(m.hold_target_s);
      if (!cameraAsked) { cameraAsked = true; startCamera(); }  // the model is loaded: the first frame is analysed
      maybeStart();
    } else if (m.type === "started") {
      flatback.summary = null; $("summary-card").hidden = true; prevReps = 0;
      $("start").disabled = true; $("stop").disabled = false; $("cancel").disabled = false; $("mode").disabled = true;
      setStatus(m.mode === "test" ? "End-range test: lift both legs to vertical, press your back down." :
                m.mode === "hollow" ? "Hollow hold: press your lower back down, lift legs and shoulders a little, hold." :
                "Set running: lower slowly, as far as your back stays flat.");
      speaker.say(m.mode === "test" ? "Test. Lift both legs to vertical and press your lower back down." :
                  m.mode === "hollow" ? "Hollow hold. Press your lower back down and hold." :
                  "Go. Legs up, press your back down.", 4, "start");
    } else if (m.type === "saving") {
      setStatus("Saving the set: analysing the recording...");
      $("stop").disabled = true; $("cancel").disabled = true;
    } else if (m.type === "summary") {
      flatback.summary = m; showSummary(m); resetButtons();
      setStatus("Saved to your training log.");
    } else if (m.type === "cancelled") {
      resetButtons(); setStatus("Set cancelled, nothing saved.");
    } else if (m.type === "error") {
      flatback.errors.push(m.error); setStatus(m.error, true); inFlight = Math.max(inFlight - 1, 0);
      if (!flatback.state.running) resetButtons();
    }
  }

  function resetButtons() { $("start").disabled = false; $("stop").disabled = true; $("cancel").disabled = true; $("mode").disabled = false; }

  function maybeStart() { if (wantStart && hello && cameraReady) { wantStart = false; send({ type: "start" }); } }

  function onState(m) {
    inFlight = Math.max(inFlight - 1, 0);
    const now = performance.now();
    times.push(now); while (times.length && times[0] < now - 2000) times.shift();
    const latency = now - m.capture_ms;
    latencies.push(latency); if (latencies.length > 300) latencies.shift();
    const sorted = latencies.slice().sort((a, b) => a - b);
    last = m;
    Object.assign(flatback.state, m, {
      fps: times.length > 1 ? Math.round(10 * (times.length - 1) / ((times[times.length - 1] - times[0]) / 1000)) / 10 : 0,
      latency_ms: Math.round(latency), latency_p95_ms: Math.round(sorted[Math.floor(0.95 * (sorted.length - 1))]),
    });
    render(m);
    coach(m);
  }

  function render(m) {
    $("reps").textContent = m.rep_count; $("goal").textContent = m.target;
    $("quality").textContent = m.rep_count ? m.quality_rep_count + " quality" : "";
    $("phase").textContent = m.phase;
    $("back").textContent = "back " + m.back; $("back").className = "pill back-" + m.back;
    $("angle").textContent = m.leg_angle_deg === null ? "- deg" : Math.round(m.leg_angle_deg) + " deg";
    $("tempo").textContent = m.phase === "descent" && m.running ? (m.tempo_count + 1) : "";
    $("cue").textContent = m.cue || "";
    $("hold").hidden = m.mode !== "hollow"; $("held").textContent = m.held_s.toFixed(1);
    $("fps").textContent = flatback.state.fps + " fps"; $("latency").textContent = "latency " + flatback.state.latency_ms + " ms";
    const items = m.setup.map((s) => '<li class="' + (s.ok === true ? "ok" : s.ok === false ? "bad" : "wait") + '" data-key="' + s.key + '">' +
      s.text.replace(/&/g, "&amp;").replace(/</g, "&lt;") + "</li>").join("");
    $("setup").innerHTML = "<ul>" + items + "</ul>";
  }

  // what the coach says: breathing on each turn, the count on the way down, the cue
  function coach(m) {
    if (!m.running) { prevPhase = m.phase; setupAdvice(m); return; }
    if (m.phase === "descent" && prevPhase !== "descent") {
      speaker.say(m.mode === "test" ? "Lower slowly until your back lifts. One" : "Inhale, lower. One", 5, null, 1.0);
    } else if (m.phase === "ascent" && prevPhase !== "ascent") {
      speaker.say("Exhale, up", 5, null, 1.0);
    }
    if (m.phase === "descent" && m.tempo_count > prevTempo && m.tempo_count < NUMBERS.length) {
      speaker.say(NUMBERS[m.tempo_count], 6, null, 0.8);
    }
    if (m.cue) speaker.say(m.cue, m.cue_priority === null ? 4 : m.cue_priority, "cue:" + m.cue_code, 4);
    if (m.rep_count > prevReps && m.mode === "test" && m.rep_count < m.target) {
      speaker.say("Try " + NUMBERS[m.rep_count] + " done. Legs back to vertical for the next.", 4, null, 4);
    }
    $("prompt").textContent = prompt(m);
    prevPhase = m.phase; prevTempo = m.phase === "descent" ? m.tempo_count : 0; prevCue = m.cue; prevReps = m.rep_count;
  }

  // before the set: say the first thing to change (each at most once per cue_repeat_s), or that all is green
  function setupAdvice(m) {
    if (flatback.summary || !cameraReady) return;
    const bad = m.setup.find((i) => i.ok === false);
    const green = m.setup.length && m.setup.every((i) => i.ok === true);
    $("start").textContent = green || !m.setup.length ? "Start" : "Start anyway";
    $("prompt").textContent = bad ? bad.text : green ? "All green: start when ready." : "";
    if (bad) speaker.say(bad.text, 4, "setup:" + bad.key, 3);
    else if (green) speaker.say("All set. Start when ready.", 4, "setup:green", 3);
  }

  function prompt(m) {
    if (m.mode === "hollow") return m.back === "flat" ? "Hold: back pressed down." : "The timer runs while your lower back is flat.";
    if (m.mode === "test") return "Try " + Math.min(m.rep_count + 1, m.target) + " of " + m.target + ": " +
      (m.phase === "descent" ? "lower slowly until your back starts to lift." : "legs vertical, back pressed down.");
    return m.phase === "descent" ? "Inhale, lower slowly." : m.phase === "ascent" ? "Exhale, up." : m.phase === "top" ? "Press your back down." : "";
  }

  function showSummary(m) {
    const esc = (s) => String(s).replace(/&/g, "&amp;").replace(/</g, "&lt;");
    let html = "<ul class=summary>";
    if (m.mode === "hollow") html += "<li>Held " + m.held_s + " s with the back flat (target " + Math.round(flatback.config.hold_target_s) + " s).</li>";
    html += "<li>" + m.rep_count + " reps, " + m.quality_rep_count + " quality (" + esc(m.exercise.replace(/_/g, " ")) + ")</li>";
    if (m.end_range_deg !== null) html += "<li>End range " + m.end_range_deg + " deg. " + esc(m.end_range_text) + "</li>";
    if (m.test) {
      m.test.tries.forEach((t) => { html += "<li>Try " + t.index + ": " + (t.result_deg === null ? "-" : t.result_deg + " deg") + " (" + esc(t.how) + ")</li>"; });
      html += "<li><b>Your end range: " + (m.test.end_range_deg === null ? "not measured" : (m.test.at_or_below ? "at or below " : "") + m.test.end_range_deg + " deg") +
              "</b>, confidence " + esc(m.test.confidence) + ": " + esc(m.test.confidence_reason) + "</li>";
      m.test.comparison.forEach((c) => { html += "<li>" + esc(c) + "</li>"; });
    }
    m.cues.forEach((c) => { html += "<li>" + esc(c) + "</li>"; });
    html += '<li><a id="report-link" href="' + esc(m.report_url) + '" target="_blank">The full report</a> - <a href="/history">history and plan</a></li></ul>';
    $("summary").innerHTML = html; $("summary-card").hidden = false;
    speaker.say(m.mode === "test" && m.test && m.test.end_range_deg !== null ? "Test done. Your end range is " + Math.round(m.test.end_range_deg) + " degrees." :
                m.mode === "hollow" ? "Hold done." : "Set done. " + m.quality_rep_count + " quality reps.", 3, null, 5);
  }

  // --- camera, frames out, drawing ----------------------------------------------------------
  function sendFrame(captureMs) {
    if (!ws || ws.readyState !== 1 || inFlight >= MAX_IN_FLIGHT || !video.videoWidth) return;
    const scale = Math.min(1, SEND_SIDE / Math.max(video.videoWidth, video.videoHeight));
    grab.width = Math.round(video.videoWidth * scale); grab.height = Math.round(video.videoHeight * scale);
    gctx.drawImage(video, 0, 0, grab.width, grab.height);
    inFlight++;
    grab.toBlob((blob) => {
      if (!blob) { inFlight--; return; }
      blob.arrayBuffer().then((jpeg) => {
        const buf = new Uint8Array(8 + jpeg.byteLength);
        new DataView(buf.buffer).setFloat64(0, captureMs, true);
        buf.set(new Uint8Array(jpeg), 8);
        if (ws.readyState === 1) ws.send(buf.buffer); else inFlight--;
      });
    }, "image/jpeg", JPEG_QUALITY);
  }

  function onVideoFrame(now, meta) {
    let capture = performance.now();
    if (meta && meta.captureTime && meta.captureTime <= capture && capture - meta.captureTime < 1000) capture = meta.captureTime;
    sendFrame(capture);
    video.requestVideoFrameCallback(onVideoFrame);
  }

  function draw() {
    if (video.videoWidth) {
      if (view.width !== video.videoWidth) { view.width = video.videoWidth; view.height = video.videoHeight; }
      ctx.drawImage(video, 0, 0, view.width, view.height);
      if (last) overlay(last);
    }
    requestAnimationFrame(draw);
  }

  function overlay(m) {
    const sx = view.width / m.size[0], sy = view.height / m.size[1];
    const pts = {}; m.points.forEach(([i, x, y, v]) => { if (v > 0.3) pts[i] = [x * sx, y * sy]; });
    if (m.floor) {
      ctx.strokeStyle = "rgba(255,200,0,.9)"; ctx.lineWidth = 2; ctx.setLineDash([8, 6]);
      ctx.beginPath(); ctx.moveTo(m.floor[0][0] * sx, m.floor[0][1] * sy); ctx.lineTo(m.floor[1][0] * sx, m.floor[1][1] * sy); ctx.stroke();
      ctx.setLineDash([]);
    }
    ctx.strokeStyle = m.back === "lifted" ? "#ff4d40" : "#3fe07a"; ctx.lineWidth = 3;
    BONES.forEach(([a, b]) => { if (pts[a] && pts[b]) { ctx.beginPath(); ctx.moveTo(...pts[a]); ctx.lineTo(...pts[b]); ctx.stroke(); } });
    ctx.fillStyle = "#fff"; Object.values(pts).forEach(([x, y]) => { ctx.beginPath(); ctx.arc(x, y, 3, 0, 7); ctx.fill(); });
    const hip = pts[23] || pts[24];
    if (hip && m.leg_angle_deg !== null) {
      ctx.font = "bold 22px system-ui"; ctx.fillStyle = "#fff"; ctx.strokeStyle = "#000"; ctx.lineWidth = 4;
      const label = Math.round(m.leg_angle_deg) + "\u00b0";
      ctx.strokeText(label, hip[0] + 10, hip[1] - 14); ctx.fillText(label, hip[0] + 10, hip[1] - 14);
    }
    ctx.font = "bold 28px system-ui"; ctx.fillStyle = "#fff"; ctx.strokeStyle = "#000"; ctx.lineWidth = 4;
    const head = m.mode === "hollow" ? m.held_s.toFixed(1) + " s" : m.rep_count + " / " + m.target;
    ctx.strokeText(head, 14, 36); ctx.fillText(head, 14, 36);
  }

  function startCamera() {
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      return setStatus("This browser gives no camera here: open the page at http://127.0.0.1 (or over HTTPS).", true);
    }
    navigator.mediaDevices.getUserMedia({ video: { width: { ideal: 640 }, height: { ideal: 480 } }, audio: false })
      .then((stream) => {
        video.srcObject = stream;
        return video.play();
      })
      .then(() => {
        cameraReady = true;
        setStatus("Camera on. Get set up until the check is all green, then Start.");
        if ("requestVideoFrameCallback" in video) video.requestVideoFrameCallback(onVideoFrame);
        else setInterval(() => sendFrame(performance.now()), 33);
        requestAnimationFrame(draw);
        maybeStart();
      })
      .catch((e) => setStatus("No camera: " + e.message, true));
  }

  // --- controls -------------------------------------------------------------------------------
  $("start").addEventListener("click", () => send({ type: "start" }));
  $("stop").addEventListener("click", () => send({ type: "stop" }));
  $("cancel").addEventListener("click", () => send({ type: "cancel" }));
  $("mute").addEventListener("click", () => {
    speaker.setMuted(!speaker.muted); $("mute").textContent = speaker.muted ? "Unmute" : "Mute";
  });
  $("mode").addEventListener("change", () => {
    const mode = $("mode").value;
    $("target-box").hidden = mode !== "set";
    send({ type: "mode", mode, target: Number($("target").value) });
    flatback.state.mode = mode;
  });
  $("target").addEventListener("change", () => send({ type: "mode", mode: $("mode").value, target: Number($("target").value) }));
  flatback.start = () => send({ type: "start" });
  flatback.stop = () => send({ type: "stop" });

  if (params.get("mode")) $("mode").value = params.get("mode");
  if (params.get("target")) $("target").value = params.get("target");
  $("target-box").hidden = $("mode").value !== "set";
  if (speaker.muted) $("mute").textContent = "Unmute";
  setStatus("Loading the pose model...");
  connect();
})();
