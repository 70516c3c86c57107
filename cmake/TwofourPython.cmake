# The Python package (python/): TWOFOUR_PYTHON = AUTO (built when a Python interpreter with its
# development headers and the nanobind package is found), ON (required) or OFF.
#
# Which Python: -DPython_EXECUTABLE=... when given; else the virtual environment that
# scripts/install-deps creates in .venv when the system Python refuses pip installs (PEP 668);
# else the active virtual environment; else the first python3 on PATH. The same interpreter runs
# the pytest suite (tests/python), so the one that install-deps equipped is the one tested.
set(TWOFOUR_PYTHON "AUTO" CACHE STRING "Build the Python package: AUTO (when Python headers and nanobind are found), ON, OFF")
set_property(CACHE TWOFOUR_PYTHON PROPERTY STRINGS AUTO ON OFF)
set(TWOFOUR_HAVE_PYTHON OFF)

if(NOT TWOFOUR_PYTHON STREQUAL "OFF")
  if(NOT Python_EXECUTABLE)
    if(EXISTS ${PROJECT_SOURCE_DIR}/.venv/bin/python3)
      set(Python_EXECUTABLE ${PROJECT_SOURCE_DIR}/.venv/bin/python3)
    elseif(DEFINED ENV{VIRTUAL_ENV} AND EXISTS "$ENV{VIRTUAL_ENV}/bin/python3")
      set(Python_EXECUTABLE "$ENV{VIRTUAL_ENV}/bin/python3")
    else()
      find_program(_twofour_python3 python3)
      if(_twofour_python3)  # the interpreter itself, not a launcher such as a pyenv shim
        execute_process(COMMAND ${_twofour_python3} -c "import sys; print(sys.executable)"
                        OUTPUT_VARIABLE _twofour_python3_real OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
        if(_twofour_python3_real)
          set(Python_EXECUTABLE ${_twofour_python3_real})
        else()
          set(Python_EXECUTABLE ${_twofour_python3})
        endif()
      endif()
    endif()
  endif()
  set(_twofour_python_mode QUIET)
  if(TWOFOUR_PYTHON STREQUAL "ON")
    set(_twofour_python_mode REQUIRED)
  endif()
  find_package(Python 3.9 COMPONENTS Interpreter Development.Module ${_twofour_python_mode})
  if(Python_FOUND)
    execute_process(COMMAND ${Python_EXECUTABLE} -m nanobind --cmake_dir
                    OUTPUT_VARIABLE _twofour_nanobind_dir OUTPUT_STRIP_TRAILING_WHITESPACE
                    RESULT_VARIABLE _twofour_nanobind_rc ERROR_QUIET)
    if(_twofour_nanobind_rc EQUAL 0)
      list(APPEND CMAKE_PREFIX_PATH ${_twofour_nanobind_dir})
      find_package(nanobind CONFIG ${_twofour_python_mode})
    endif()
  endif()
  if(Python_FOUND AND nanobind_FOUND)
    set(TWOFOUR_HAVE_PYTHON ON)
    get_filename_component(TWOFOUR_NANOBIND_INCLUDE_DIR ${_twofour_nanobind_dir}/../include ABSOLUTE)
    message(STATUS "twofour: Python package enabled (${Python_EXECUTABLE}, nanobind ${nanobind_VERSION})")
  elseif(TWOFOUR_PYTHON STREQUAL "ON")
    message(FATAL_ERROR "TWOFOUR_PYTHON=ON but nanobind was not found for ${Python_EXECUTABLE} (run scripts/install-deps)")
  else()
    message(STATUS "twofour: Python package skipped (needs Python headers and nanobind; run scripts/install-deps)")
  endif()
endif()
