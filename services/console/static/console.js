// Live updates on 예약관리 and 주문현황: the gateway's event stream, relayed by the console
// (/p/<pid>/events). An event of the page's kind (data-prefix) reloads the list in place
// (htmx), and the tab's title counts what arrived since the page was opened (data-fresh-kind);
// 주문현황 also beeps (WebAudio, no sound file) once the page has been touched (browsers
// allow sound only after a gesture).
(function () {
  var live = document.getElementById("live");
  if (!live || !window.EventSource) return;
  var prefix = live.dataset.prefix || "reservation.";
  var freshKind = live.dataset.freshKind || "reservation.requested";
  var target = live.dataset.target || "#reservation-list";
  var fresh = 0;
  var badge = document.getElementById("live-badge");
  var audio = null;
  if (live.dataset.beep === "yes" && (window.AudioContext || window.webkitAudioContext)) {
    document.addEventListener("click", function () {
      if (!audio) audio = new (window.AudioContext || window.webkitAudioContext)();
    }, {once: true});
  }
  function beep() {
    if (!audio) return;
    var tone = audio.createOscillator(), gain = audio.createGain();
    tone.frequency.value = 880;
    gain.gain.value = 0.15;
    tone.connect(gain); gain.connect(audio.destination);
    tone.start(); tone.stop(audio.currentTime + 0.25);
  }
  var source = new EventSource(live.dataset.events);
  source.addEventListener("notification", function (event) {
    var message = JSON.parse(event.data);
    if (message.kind.indexOf(prefix) !== 0) return;
    if (message.kind === freshKind) {
      fresh += 1;
      document.title = "(" + fresh + ") " + live.dataset.title;
      badge.textContent = fresh + " " + live.dataset.newLabel;
      badge.hidden = false;
      beep();
    }
    htmx.ajax("GET", live.dataset.list + window.location.search, {target: target, swap: "innerHTML"});
  });
  source.addEventListener("ready", function () { live.dataset.connected = "yes"; });
})();
