{
  "targets": [
    {
      "target_name": "forkscope_shm",
      "sources": ["shm.cc"],
      "cflags_cc": ["-std=c++17", "-O2"],
      "xcode_settings": { "OTHER_CPLUSPLUSFLAGS": ["-std=c++17"] }
    }
  ]
}
