// The ipywidgets embed manager (@jupyter-widgets/html-manager 1.0.6) typesets widget
// labels with the MathJax 2 call `MathJax.Hub.Queue(["Typeset", MathJax.Hub, element])`.
// The book loads MathJax 3, which has no `Hub`: without this shim every page with both
// maths and widgets throws "Cannot read properties of undefined (reading 'Queue')".
// The shim gives whatever object is `window.MathJax` a hidden `Hub.Queue` that calls
// MathJax 3's `typesetPromise` on the element instead.
(function () {
  "use strict";
  var current = window.MathJax;
  var hub = {
    Queue: function (job) {
      var element = Array.isArray(job) ? job[2] : undefined;
      if (current && typeof current.typesetPromise === "function") {
        current.typesetPromise(element ? [element] : undefined).catch(function () {});
      }
    },
  };
  function withHub(obj) {
    if (obj && typeof obj === "object" && !("Hub" in obj)) {
      try {
        Object.defineProperty(obj, "Hub", { value: hub, enumerable: false, configurable: true });
      } catch (e) {
        /* a frozen object: leave it alone */
      }
    }
    return obj;
  }
  Object.defineProperty(window, "MathJax", {
    configurable: true,
    enumerable: true,
    get: function () {
      return withHub(current);
    },
    set: function (value) {
      current = value;
    },
  });
})();
