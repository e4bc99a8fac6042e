// The switch between the English and the Chinese edition (book/_ext/edition.py puts the
// target of this page in <meta name="edition-switch">): a link in the page header that
// opens the same page in the other edition.
document.addEventListener("DOMContentLoaded", function () {
  var meta = document.querySelector('meta[name="edition-switch"]');
  if (!meta) return;
  var link = document.createElement("a");
  link.className = "btn edition-switch";
  link.href = meta.getAttribute("content") + window.location.hash;
  link.hreflang = meta.getAttribute("data-lang");
  link.lang = meta.getAttribute("data-lang");
  link.textContent = meta.getAttribute("data-label");
  link.title = link.lang === "en" ? "Read this page in English" : "阅读本页的中文版";
  var buttons = document.querySelector(".article-header-buttons");
  if (buttons) {
    buttons.insertBefore(link, buttons.firstChild);
  } else {
    link.classList.add("edition-switch-floating");
    document.body.insertBefore(link, document.body.firstChild);
  }
});
