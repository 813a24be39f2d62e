"""HTTP adapters: one package per area of the site (ARCHITECTURE §3). Views parse input,
call one service, and render or redirect; they hold no business rule."""
