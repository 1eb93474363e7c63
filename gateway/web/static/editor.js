// The editor without it works by buttons; with it, Enter in a search box searches, and modules, lessons
// and quizzes can be dragged to a new place (the page then posts the same move a button would).
(function () {
  var form = document.getElementById('editor') || document.querySelector('form.editor');
  if (!form) return;
  function post(op) {
    var input = document.createElement('input');
    input.type = 'hidden'; input.name = 'op'; input.value = op;
    form.appendChild(input);
    form.submit();
  }
  form.addEventListener('keydown', function (e) {
    var op = e.target.getAttribute && e.target.getAttribute('data-enter');
    if (e.key === 'Enter' && op) { e.preventDefault(); post(op); }
  });
  var outline = form.querySelector('[data-outline]');
  if (!outline) return;
  var dragged = null;
  outline.classList.add('dnd');
  outline.querySelectorAll('li[data-id]').forEach(function (li) {
    li.draggable = true;
    li.addEventListener('dragstart', function (e) {
      var from = e.target.tagName;
      if (from === 'INPUT' || from === 'TEXTAREA') return;
      e.stopPropagation(); dragged = li; li.classList.add('dragging');
      e.dataTransfer.effectAllowed = 'move'; e.dataTransfer.setData('text/plain', li.dataset.id);
    });
    li.addEventListener('dragend', function () { li.classList.remove('dragging'); });
    li.addEventListener('dragover', function (e) {
      if (dragged && dragged !== li && (dragged.dataset.kind === li.dataset.kind || dragged.dataset.kind === 'item')) e.preventDefault();
    });
    li.addEventListener('drop', function (e) {
      e.preventDefault(); e.stopPropagation();
      if (!dragged || dragged === li) return;
      var list, target = li;
      if (dragged.dataset.kind === 'item' && li.dataset.kind === 'module') {
        list = li.querySelector('ol[data-module]');
        post('move:' + dragged.dataset.id + ':' + list.dataset.module + ':' + list.querySelectorAll(':scope > li[data-id]').length);
        return;
      }
      list = target.parentElement;
      var siblings = Array.prototype.filter.call(list.children, function (c) { return c.dataset.id && c !== dragged; });
      var index = siblings.indexOf(target);
      post('move:' + dragged.dataset.id + ':' + (list.dataset.module || '') + ':' + index);
    });
  });
})();
