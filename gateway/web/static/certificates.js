// Progressive enhancement for /me/certificates: a "Copy link" button beside each share link.
// Without JavaScript the link is in a read-only field the teacher can select and copy.
document.querySelectorAll("article[data-certificate]").forEach(function (card) {
  var input = card.querySelector("input.share");
  var button = card.querySelector("button.copy");
  if (!input || !button || !navigator.clipboard) return;
  button.hidden = false;
  button.addEventListener("click", function () {
    navigator.clipboard.writeText(input.value).then(function () {
      button.textContent = button.dataset.copied;
    });
  });
});
