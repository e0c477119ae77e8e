# Every dependency comes from a Debian 12 package (see scripts/install-deps.sh); nothing is fetched.
find_package(Boost 1.81.0 EXACT CONFIG REQUIRED COMPONENTS json url)
find_package(SQLite3 REQUIRED)
find_package(OpenSSL REQUIRED COMPONENTS Crypto SSL)
find_package(Threads REQUIRED)
find_package(GTest CONFIG REQUIRED)
find_package(benchmark CONFIG QUIET)

# libs2 ships neither a CMake config nor a pkg-config file: build an imported target by hand,
# linking the Abseil libraries it was built against.
find_path(S2_INCLUDE_DIR s2/s2cell_id.h REQUIRED)
find_library(S2_LIBRARY s2 REQUIRED)
set(_s2_absl hash city low_level_hash raw_hash_set hashtablez_sampler btree synchronization
    str_format_internal strings strings_internal throw_delegate spinlock_wait raw_logging_internal
    int128 base log_severity malloc_internal graphcycles_internal stacktrace symbolize
    debugging_internal demangle_internal time time_zone civil_time kernel_timeout_internal)
set(_s2_absl_libs)
foreach(lib IN LISTS _s2_absl)
  find_library(ABSL_${lib}_LIBRARY absl_${lib})
  if(ABSL_${lib}_LIBRARY)
    list(APPEND _s2_absl_libs ${ABSL_${lib}_LIBRARY})
  endif()
endforeach()
add_library(s2::s2 UNKNOWN IMPORTED)
set_target_properties(s2::s2 PROPERTIES
  IMPORTED_LOCATION ${S2_LIBRARY}
  INTERFACE_INCLUDE_DIRECTORIES ${S2_INCLUDE_DIR}
  INTERFACE_LINK_LIBRARIES "${_s2_absl_libs};OpenSSL::Crypto")
