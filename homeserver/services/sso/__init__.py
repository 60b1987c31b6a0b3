"""Login through external identity providers: OpenID Connect (spec: "SSO client
login/authentication"). ``login`` runs the browser flow; ``providers`` holds discovery and keys,
``oidc`` the protocol, ``mapping`` who is who, ``attempts`` the logins in progress,
``redirects`` the client's redirectUrl."""
