// The app's routes: each is a path pattern and a view; a view is one module that renders into a
// container and returns `{destroy, keydown?}`. A new view is one module plus one entry here.
// `public` views show without signing in (a share link's page).

export const ROUTES = [
  { name: 'gallery', pattern: /^\/$/ },
  { name: 'media', pattern: /^\/media\/([^/]+)$/, params: ['id'] },
  { name: 'review', pattern: /^\/review$/ },
  { name: 'share', pattern: /^\/s\/([A-Za-z0-9_-]{16,200})$/, params: ['token'], public: true },
];

/** The route of a path: `{name, params, public}`; `notfound` when none matches. */
export function matchRoute(pathname) {
  for (const route of ROUTES) {
    const found = pathname.match(route.pattern);
    if (!found) continue;
    const params = {};
    (route.params || []).forEach((key, index) => {
      params[key] = decodeURIComponent(found[index + 1]);
    });
    return { name: route.name, params, public: Boolean(route.public) };
  }
  return { name: 'notfound', params: {}, public: false };
}
