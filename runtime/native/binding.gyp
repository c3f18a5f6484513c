{
  "targets": [
    {
      "target_name": "forkscope_shm",
      "sources": ["shm.c"],
      "cflags": ["-O2"],
      "defines": ["NAPI_DISABLE_CPP_EXCEPTIONS"]
    }
  ]
}
