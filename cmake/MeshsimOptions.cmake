# One place for warnings and sanitizers. `meshsim_target_defaults(tgt)` applies them to our own
# targets only, so third-party headers (included as SYSTEM) never fail the build.
if(CMAKE_CXX_COMPILER_LAUNCHER STREQUAL "")
  find_program(CCACHE_PROGRAM ccache)
  if(CCACHE_PROGRAM)
    set(CMAKE_CXX_COMPILER_LAUNCHER ${CCACHE_PROGRAM})
  endif()
endif()

if(MESHSIM_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
endif()

function(meshsim_target_defaults target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow=local
                                           -Wnon-virtual-dtor -Wno-missing-field-initializers)
  if(MESHSIM_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()

# The allocator of the processes that run sidecars. A proxy allocates and frees small objects
# on every request (HTTP fields, coroutine frames) and OpenSSL 3 allocates about fifteen times per
# TLS record and hundreds of times per handshake; glibc's malloc spends a tenth of the data
# plane's CPU on that. Envoy, the sidecar Istio ships, links tcmalloc for the same reason; we link
# gperftools' tcmalloc (Debian's libgoogle-perftools-dev), which keeps those sizes in per-thread
# caches. Not under the sanitizers, which bring their own allocator. MESHSIM_TCMALLOC=1 tells the
# code (bench/tls_handshake_bench.cpp reads heap usage from it instead of mallinfo2).
function(meshsim_use_tcmalloc target)
  if(TARGET PkgConfig::TCMALLOC)
    target_link_libraries(${target} PRIVATE PkgConfig::TCMALLOC)
    target_compile_definitions(${target} PRIVATE MESHSIM_TCMALLOC=1)
  endif()
endfunction()
