// Filters for the kickoff checklist. The form ships hidden, so without JS every row shows
// and no control pretends to work. render.py allows exactly this script by its hash.
(function () {
  "use strict";
  var form = document.querySelector("form.filters");
  if (!form) {
    return;
  }
  var kindSelect = form.querySelector("select[name=kind]");
  var output = form.querySelector("output");
  function apply() {
    var wanted = {};
    form.querySelectorAll("input[name=status]").forEach(function (box) {
      wanted[box.value] = box.checked;
    });
    var kind = kindSelect.value;
    var shown = 0;
    document.querySelectorAll("section.group").forEach(function (section) {
      var visible = 0;
      section.querySelectorAll("tr.item").forEach(function (row) {
        var show = wanted[row.dataset.status] !== false && (!kind || row.dataset.kind === kind);
        row.hidden = !show;
        if (show) {
          visible += 1;
        }
      });
      section.hidden = visible === 0;
      shown += visible;
    });
    output.textContent = shown + (shown === 1 ? " item shown" : " items shown");
  }
  form.addEventListener("change", apply);
  form.addEventListener("submit", function (event) {
    event.preventDefault();
  });
  form.hidden = false;
  apply();
})();
