// Applies the saved colour theme before the page paints. It is a classic
// (blocking) script on purpose: a module would run after first paint and the
// dark theme would flash light on every load.
(function () {
  try {
    if (localStorage.getItem("ccbox.theme") === "dark") {
      document.documentElement.setAttribute("data-theme", "dark");
    }
  } catch (e) {
    // Storage can be disabled (privacy mode); the light theme is the default.
  }
})();
