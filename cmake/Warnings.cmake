# Strict warnings for the project's own targets only; third-party headers are included as SYSTEM.
# -Werror belongs to the developer and CI builds (the presets turn PAHLAWAN_WERROR on): a consumer's
# plain `cmake -DCMAKE_BUILD_TYPE=Release` must compile even when a newer or older compiler, or a
# higher optimisation level, reports something new (GCC 12's -Wrestrict at -O3 is a known false
# positive inside libstdc++).
option(PAHLAWAN_WERROR "Treat warnings as errors in the project's own targets" OFF)
# GCC 12 at -O2 reports -Wmaybe-uninitialized falsely through std::variant (our Result<T>) and
# Abseil; it stays a visible warning there but does not fail the optimised build.
function(pahlawan_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wno-missing-field-initializers)
  if(PAHLAWAN_WERROR)
    target_compile_options(${target} PRIVATE -Werror -Wno-error=maybe-uninitialized)
  endif()
endfunction()
