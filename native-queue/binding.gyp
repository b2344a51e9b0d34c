# The native queue addon: `npm run build:native` (node-gyp) from the package root; in an installed
# package, see the message src/native/addon.ts gives when the addon is missing.
{
  "targets": [
    {
      "target_name": "viscose_native",
      "sources": ["src/addon.cc", "src/affinity.cc"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": [
        "NAPI_VERSION=8",
        "NODE_ADDON_API_DISABLE_CPP_EXCEPTIONS",
        # A worker being terminated cannot take a JS value back; without this node-addon-api
        # aborts the whole process when a call returns into a terminating worker.
        "NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS"
      ],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++17"],
      "cflags_cc": ["-std=c++20", "-O3", "-Wall", "-Wextra"]
    }
  ]
}
