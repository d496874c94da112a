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
