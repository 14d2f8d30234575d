// The upload page: send the video (the body of one POST), follow the analysis, show the report.
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);
  const state = { stage: "idle", fraction: 0, report_url: null, error: null };
  window.flatback = { upload: state };

  function show(stage, fraction) {
    state.stage = stage; state.fraction = fraction;
    $("stage").textContent = stage;
    $("bar").hidden = false; $("bar").value = fraction;
  }
  function fail(message) {
    state.stage = "failed"; state.error = message;
    $("result").className = "error"; $("result").textContent = message; $("go").disabled = false;
  }
  function poll(id) {
    fetch("/api/jobs/" + id).then((r) => r.json().then((j) => [r, j])).then(([r, job]) => {
      if (!r.ok) return fail(job.error || ("error " + r.status));
      if (job.stage === "failed") return fail(job.error);
      if (job.stage === "done") {
        show("Done: " + job.summary.rep_count + " reps (" + job.summary.quality_rep_count + " quality), " +
             job.summary.exercise.replace(/_/g, " ") + (job.summary.saved ? "; saved to your log." : "."), 1);
        state.report_url = job.report_url;
        $("report-link").href = job.report_url; $("report").src = job.report_url; $("report-card").hidden = false;
        $("go").disabled = false;
        return;
      }
      show((job.stage === "drawing" ? "Drawing the annotated video" : job.stage === "queued" ? "Waiting for the analyser" : "Analysing") +
           "... " + Math.round(100 * job.fraction) + " %", job.fraction);
      setTimeout(() => poll(id), 500);
    }).catch((e) => fail("lost the server: " + e));
  }
  $("go").addEventListener("click", () => {
    const file = $("file").files[0];
    if (!file) return fail("Choose a video first.");
    $("go").disabled = true; $("result").textContent = ""; $("report-card").hidden = true; state.error = null;
    const xhr = new XMLHttpRequest();
    xhr.open("POST", "/api/upload?save=" + ($("save").checked ? "true" : "false"));
    xhr.setRequestHeader("Content-Type", "application/octet-stream");
    xhr.upload.onprogress = (e) => { if (e.lengthComputable) show("Uploading... " + Math.round(100 * e.loaded / e.total) + " %", 0); };
    xhr.onload = () => {
      let body = {};
      try { body = JSON.parse(xhr.responseText); } catch (e) { /* not JSON */ }
      if (xhr.status !== 202) return fail(body.error || ("error " + xhr.status));
      poll(body.id);
    };
    xhr.onerror = () => fail("the upload failed (is the server running?)");
    xhr.send(file);
  });
})();
