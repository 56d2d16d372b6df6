{
  "targets": [
    {
      "target_name": "xproc",
      "sources": ["native/xproc.cc"],
      "cflags_cc": ["-std=c++17", "-Wall", "-Wno-cast-function-type", "-O2"],
      "cflags_cc!": ["-fno-exceptions"]
    }
  ]
}
