// Live updates on 예약관리: the gateway's event stream, relayed by the console
// (/p/<pid>/events). A reservation event reloads the list in place (htmx), and the
// tab's title counts the new booking requests since the page was opened.
(function () {
  var live = document.getElementById("live");
  if (!live || !window.EventSource) return;
  var fresh = 0;
  var badge = document.getElementById("live-badge");
  var source = new EventSource(live.dataset.events);
  source.addEventListener("notification", function (event) {
    var message = JSON.parse(event.data);
    if (message.kind.indexOf("reservation.") !== 0) return;
    if (message.kind === "reservation.requested") {
      fresh += 1;
      document.title = "(" + fresh + ") " + live.dataset.title;
      badge.textContent = fresh + " " + live.dataset.newLabel;
      badge.hidden = false;
    }
    htmx.ajax("GET", live.dataset.list + window.location.search, {target: "#reservation-list", swap: "innerHTML"});
  });
  source.addEventListener("ready", function () { live.dataset.connected = "yes"; });
})();
