// The job page follows its job: every 2 s it asks for the job's state and shows it, until done or failed.
(function () {
  "use strict";
  var box = document.getElementById("job");
  if (!box) return;
  var url = box.getAttribute("data-state-url");

  function show(state) {
    document.getElementById("job-status").textContent = state.status;
    document.getElementById("job-attempt").textContent = "(attempt " + state.attempts + ")";
    var bar = document.getElementById("job-progress");
    bar.value = state.percent;
    bar.textContent = state.percent + "%";
    document.getElementById("job-percent").textContent = state.words;
    var error = document.getElementById("job-error");
    error.hidden = !state.error;
    error.textContent = state.error || "";
    if (state.meeting_url) {
      document.getElementById("job-meeting").href = state.meeting_url;
      document.getElementById("job-done").hidden = false;
    }
    return state.status === "done" || state.status === "failed";
  }

  function poll() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.json(); })
      .then(function (state) { if (!show(state)) setTimeout(poll, 2000); })
      .catch(function () { setTimeout(poll, 5000); });
  }
  setTimeout(poll, 1000);
})();
