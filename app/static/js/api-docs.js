// The API reference page (/api/v1/docs): Swagger UI on our own OpenAPI document. A file of
// ours, not an inline script, so the page keeps the site's CSP (script-src 'self').
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var root = document.getElementById("swagger-ui");
    if (!root || typeof window.SwaggerUIBundle !== "function") return;
    window.ui = window.SwaggerUIBundle({
      url: root.getAttribute("data-document-url"),
      domNode: root,
      deepLinking: true,
      presets: [window.SwaggerUIBundle.presets.apis],
      layout: "BaseLayout",
      // No calls to validator.swagger.io (connect-src 'self'; the suite validates the document).
      validatorUrl: null,
      tryItOutEnabled: false,
      // Plain examples: the highlighter colours fall short of AA contrast on its dark background.
      syntaxHighlight: { activated: false },
      persistAuthorization: false,
    });
  });
})();
