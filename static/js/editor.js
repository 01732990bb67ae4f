// Entry editor: live length counters for channel variants (X counts weighted characters against 280).
import { xLength } from "./suggestions.js";

for (const counter of document.querySelectorAll("[data-count-for]")) {
  const field = document.getElementById(counter.dataset.countFor);
  const limit = Number(counter.dataset.limit);
  const update = () => {
    const n = xLength(field.value.trim());
    counter.textContent = n + " / " + limit;
    counter.classList.toggle("over", n > limit);
  };
  field.addEventListener("input", update);
  update();
}
