/**
 * Medusa v2 configuration for the product_sync local store.
 *
 * Everything comes from the environment so the same file serves the dev stack
 * (`scripts/devstack up`, which exports all of these), CI and a later
 * `medusa build`. A .ts config (not .js) is required for `medusa build` to copy
 * it into .medusa/server.
 *
 * Environment:
 *   DATABASE_URL            postgres://user:pass@127.0.0.1:PORT/db (TCP; socket URLs do not work)
 *   PORT                    HTTP port (also `medusa start -p`), default 9000
 *   HOST                    bind address (`medusa start -H`); the dev stack uses 127.0.0.1
 *   MEDUSA_BACKEND_URL      public URL of this server, default http://127.0.0.1:$PORT;
 *                           uploaded files are served from <MEDUSA_BACKEND_URL>/static
 *   JWT_SECRET, COOKIE_SECRET   required when NODE_ENV=production (the `medusa start` default)
 *   STORE_CORS, ADMIN_CORS, AUTH_CORS   comma-separated origins
 *   MEDUSA_ADMIN_ENABLED=true   serve the admin dashboard (needs `medusa build` first)
 *   MEDUSA_ADMIN_BACKEND_URL    the API the built dashboard calls, baked in at build time;
 *                               default "/": the origin that serves the dashboard
 *   PRODUCT_SYNC_WEBHOOK_URL, WEBHOOK_SECRET   the product sync service behind the admin's
 *                               "Product sync" card (src/lib/product-sync.ts)
 *   MEDUSA_LOCAL_STACK=true     local plain-http store: session cookie without `Secure`
 *   MEDUSA_DISABLE_TELEMETRY=true   set by the dev stack; nothing is sent
 */
import { defineConfig, loadEnv } from "@medusajs/framework/utils"

loadEnv(process.env.NODE_ENV || "development", process.cwd())

const port = process.env.PORT || "9000"
const backendUrl = (process.env.MEDUSA_BACKEND_URL || `http://127.0.0.1:${port}`).replace(
  /\/+$/,
  ""
)
const isLocalStack = process.env.MEDUSA_LOCAL_STACK === "true"
const adminEnabled = process.env.MEDUSA_ADMIN_ENABLED === "true"

export default defineConfig({
  projectConfig: {
    databaseUrl: process.env.DATABASE_URL,
    http: {
      storeCors: process.env.STORE_CORS || "http://localhost:8000,http://127.0.0.1:8000",
      adminCors: process.env.ADMIN_CORS || backendUrl,
      authCors: process.env.AUTH_CORS || backendUrl,
      jwtSecret: process.env.JWT_SECRET,
      cookieSecret: process.env.COOKIE_SECRET,
    },
    // The admin dashboard uses a session cookie. With NODE_ENV=production Medusa
    // forces `Secure`, which browsers drop on plain http; a local stack opts out.
    ...(isLocalStack ? { cookieOptions: { secure: false } } : {}),
  },
  admin: {
    disable: !adminEnabled,
    // Same origin by default, so one build works on any host and port.
    backendUrl: process.env.MEDUSA_ADMIN_BACKEND_URL || "/",
  },
  modules: [
    {
      resolve: "@medusajs/medusa/file",
      options: {
        providers: [
          {
            resolve: "@medusajs/medusa/file-local",
            id: "local",
            options: {
              // Files are written to ./static and served by this server at /static.
              backend_url: `${backendUrl}/static`,
            },
          },
        ],
      },
    },
  ],
})
