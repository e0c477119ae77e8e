# Strict warnings for the project's own targets only; third-party headers are included as SYSTEM.
# GCC 12 at -O2 reports -Wmaybe-uninitialized falsely through std::variant (our Result<T>) and
# Abseil; it stays a visible warning there but does not fail the optimised build.
function(pahlawan_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Werror -Wno-missing-field-initializers
    -Wno-error=maybe-uninitialized)
endfunction()
