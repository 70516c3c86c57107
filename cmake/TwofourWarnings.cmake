# Strict warnings for every twofour target; third-party headers come in as SYSTEM includes.
# -Wno-restrict: GCC 12 reports false positives inside libstdc++ string concatenation (GCC PR 105329).
add_library(twofour_warnings INTERFACE)
target_compile_options(twofour_warnings INTERFACE
  $<$<COMPILE_LANGUAGE:CXX>:-Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wno-sign-conversion
                            -Wnon-virtual-dtor -Wold-style-cast -Wcast-align -Woverloaded-virtual
                            -Wnull-dereference -Wdouble-promotion -Wformat=2 -Wimplicit-fallthrough
                            $<$<CXX_COMPILER_ID:GNU>:-Wno-restrict>>
  $<$<AND:$<COMPILE_LANGUAGE:CXX>,$<BOOL:${TWOFOUR_WERROR}>>:-Werror>)

if(TWOFOUR_SANITIZE)
  add_compile_options($<$<COMPILE_LANGUAGE:CXX>:-fsanitize=address,undefined>
                      $<$<COMPILE_LANGUAGE:CXX>:-fno-sanitize-recover=all>
                      $<$<COMPILE_LANGUAGE:CXX>:-fno-omit-frame-pointer>)
  add_link_options(-fsanitize=address,undefined)
endif()

# Applied to project targets only (not exported: consumers choose their own warnings).
function(twofour_strict target)
  target_link_libraries(${target} PRIVATE $<BUILD_INTERFACE:twofour_warnings>)
endfunction()
