window.ui = SwaggerUIBundle({
  url: "/swagger.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  validatorUrl: null,
});
