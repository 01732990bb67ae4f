// Entry editor: live length counters for channel variants (X counts weighted characters against 280).
(function () {
  "use strict";
  const light = [[0, 4351], [8192, 8205], [8208, 8223], [8242, 8247]];
  function weightedLength(text) {
    const urls = text.match(/https?:\/\/\S+/gi) || [];
    let total = 23 * urls.length;
    for (const part of text.split(/https?:\/\/\S+/i)) {
      for (const ch of part) {
        const cp = ch.codePointAt(0);
        total += light.some(([lo, hi]) => cp >= lo && cp <= hi) ? 1 : 2;
      }
    }
    return total;
  }
  for (const counter of document.querySelectorAll("[data-count-for]")) {
    const field = document.getElementById(counter.dataset.countFor);
    const limit = Number(counter.dataset.limit);
    const update = () => {
      const n = weightedLength(field.value.trim());
      counter.textContent = n + " / " + limit;
      counter.classList.toggle("over", n > limit);
    };
    field.addEventListener("input", update);
    update();
  }
})();
