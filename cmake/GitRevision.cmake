# Run at every build (not only at configure time) by the twofour_git_revision target: writes the
# source file that defines twofour::build_info::git_revision, so results and checkpoints name the
# commit the binary was really built from. "-dirty" marks tracked files changed since that commit.
# The file is rewritten only when the text changes, so an unchanged revision recompiles nothing.
# Inputs: SOURCE_DIR, OUTPUT, GIT_EXECUTABLE (may be empty).
set(revision "unknown")
if(GIT_EXECUTABLE AND EXISTS "${SOURCE_DIR}/.git")
  execute_process(COMMAND "${GIT_EXECUTABLE}" rev-parse --short=12 HEAD WORKING_DIRECTORY "${SOURCE_DIR}"
                  OUTPUT_VARIABLE head OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET RESULT_VARIABLE head_rc)
  if(head_rc EQUAL 0 AND NOT head STREQUAL "")
    set(revision "${head}")
    execute_process(COMMAND "${GIT_EXECUTABLE}" status --porcelain --untracked-files=no WORKING_DIRECTORY "${SOURCE_DIR}"
                    OUTPUT_VARIABLE changes ERROR_QUIET RESULT_VARIABLE status_rc)
    if(status_rc EQUAL 0 AND NOT changes STREQUAL "")
      string(APPEND revision "-dirty")
    endif()
  endif()
endif()
set(text "// Generated at build time by cmake/GitRevision.cmake.\n#include \"twofour/build_info.hpp\"\n\nnamespace twofour::build_info {\nconst char* const git_revision = \"${revision}\";\n}  // namespace twofour::build_info\n")
set(old "")
if(EXISTS "${OUTPUT}")
  file(READ "${OUTPUT}" old)
endif()
if(NOT old STREQUAL text)
  file(WRITE "${OUTPUT}" "${text}")
endif()
