# Strict warnings for the project's own targets only; third-party headers are included as SYSTEM.
function(pahlawan_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Werror -Wno-missing-field-initializers)
endfunction()
