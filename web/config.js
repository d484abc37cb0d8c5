// Deployment configuration (the CDK stack may overwrite this file). No external fetch by default.
export default {
  apiBase: '/api',   // same origin; the local stack proxies /api/* to chalice local
  tileUrl: null,     // e.g. 'https://tile.example/{z}/{x}/{y}.png'; null: the fence is drawn alone
};
