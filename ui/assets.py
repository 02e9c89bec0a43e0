"""The page's CSS and the two small scripts that make citations and examples clickable."""

from __future__ import annotations

# Runs once when the passage viewer mounts. Citation buttons live inside chat
# messages, outside the viewer, so one listener on the document catches them and
# fires the viewer's `click` event with the citation's turn and number.
CITATION_JS = """
window.__seedqaShowCitation = (turn, n) => trigger('click', {turn: turn, n: n});
if (!window.__seedqaCitationListener) {
  window.__seedqaCitationListener = true;
  document.addEventListener('click', (event) => {
    const target = event.target instanceof Element ? event.target : null;
    const button = target ? target.closest('button.seedqa-cite') : null;
    if (!button) return;
    event.preventDefault();
    event.stopPropagation();
    const number = (prefix) => {
      const name = Array.from(button.classList).find((c) => c.startsWith(prefix));
      return name ? Number(name.slice(prefix.length)) : -1;
    };
    window.__seedqaShowCitation(number('seedqa-turn-'), number('seedqa-n-'));
  }, true);
}
watch('value', () => {
  const box = element.querySelector('.seedqa-context');
  const mark = element.querySelector('.seedqa-focus') || element.querySelector('mark.seedqa-highlight');
  if (box && mark) {
    box.scrollTop += mark.getBoundingClientRect().top - box.getBoundingClientRect().top - 60;
  }
  const top = element.getBoundingClientRect().top;
  if (top < 0 || top > window.innerHeight - 80) element.scrollIntoView({block: 'nearest'});
});
"""

EXAMPLES_JS = """
element.addEventListener('click', (event) => {
  const target = event.target instanceof Element ? event.target : null;
  const button = target ? target.closest('button.seedqa-example') : null;
  if (button) trigger('click', {question: button.dataset.question});
});
"""

CSS = """
.seedqa-answer { line-height: 1.5; }
.seedqa-answer-text strong { font-weight: 700; }
.seedqa-streaming .seedqa-answer-text::after { content: " ▍"; opacity: 0.6; }
.seedqa-badge {
  display: inline-block; font-size: 0.8em; font-weight: 600; padding: 1px 8px;
  border-radius: 999px; margin-bottom: 6px;
}
.seedqa-abstained {
  border-left: 4px solid #d97706; padding-left: 10px; font-style: italic;
}
.seedqa-abstained .seedqa-badge { background: #fef3c7; color: #92400e; font-style: normal; }
.seedqa-abstained .seedqa-sources { opacity: 0.75; font-style: normal; }
.seedqa-unsure { background: var(--color-accent-soft); }
.seedqa-error { border-left: 4px solid #dc2626; padding-left: 10px; }
.seedqa-error .seedqa-badge { background: #fee2e2; color: #991b1b; }
.seedqa-sources-heading {
  margin-top: 10px; font-size: 0.85em; font-weight: 600; font-style: normal;
  color: var(--body-text-color-subdued);
}
ol.seedqa-sources { list-style: none; padding-left: 0; margin: 4px 0 0 0; }
li.seedqa-source { margin: 6px 0; font-size: 0.9em; }
.seedqa-source-title { font-weight: 600; }
.seedqa-source-meta, .seedqa-source-path { color: var(--body-text-color-subdued); font-size: 0.9em; }
.seedqa-excerpt { color: var(--body-text-color-subdued); margin-left: 2.6em; }
button.seedqa-cite {
  display: inline; cursor: pointer; border: 1px solid var(--color-accent); border-radius: 6px;
  padding: 0 4px; margin: 0 1px; font-size: 0.85em; line-height: 1.3;
  color: var(--color-accent); background: transparent; font-style: normal;
}
button.seedqa-cite:hover, button.seedqa-cite:focus { background: var(--color-accent-soft); }
.seedqa-passage-head { margin-bottom: 8px; }
.seedqa-cite-label { color: var(--color-accent); font-weight: 600; }
.seedqa-context {
  max-height: 380px; overflow-y: auto; padding: 8px 10px; border-radius: 8px;
  border: 1px solid var(--border-color-primary); background: var(--background-fill-secondary);
  line-height: 1.55;
}
mark.seedqa-highlight { background: #fde68a; color: #1f2937; padding: 1px 0; border-radius: 2px; }
table.seedqa-documents { width: 100%; border-collapse: collapse; font-size: 0.9em; }
table.seedqa-documents th, table.seedqa-documents td {
  text-align: left; padding: 4px 6px; border-bottom: 1px solid var(--border-color-primary);
}
td.seedqa-doc-chunks { text-align: right; }
.seedqa-examples { display: flex; flex-wrap: wrap; gap: 6px; align-items: center; }
.seedqa-examples-label { color: var(--body-text-color-subdued); font-size: 0.9em; }
button.seedqa-example {
  cursor: pointer; border: 1px solid var(--border-color-primary); border-radius: 999px;
  padding: 3px 10px; background: var(--background-fill-secondary); font-size: 0.9em;
}
button.seedqa-example:hover { border-color: var(--color-accent); }
.seedqa-notice { color: var(--body-text-color-subdued); padding: 6px 0; }
.seedqa-notice-warning { color: #b45309; }
.seedqa-notice-error { color: #b91c1c; }
"""
