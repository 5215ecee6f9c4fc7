# Writes the man page wpsim(1) with help2man from the built binary's own --help and --version,
# plus a COMMANDS section with every subcommand's --help, so the page always matches the code.
#   cmake -DWPSIM=... -DHELP2MAN=... -DVERSION=... -DOUTPUT=... -P man.cmake
# (--version-string: help2man would otherwise take the build details for the description).
set(include_file ${OUTPUT}.include)
set(text "[COMMANDS]\n")
foreach(sub serve run explore bench report)
  execute_process(COMMAND ${WPSIM} ${sub} --help OUTPUT_VARIABLE help RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${WPSIM} ${sub} --help exited ${rc}")
  endif()
  string(REPLACE "\\" "\\\\" help "${help}")
  string(APPEND text ".SS \"wpsim ${sub}\"\n.nf\n${help}.fi\n")
endforeach()
string(APPEND text "[SEE ALSO]\nThe documentation in /usr/share/doc/wpsim and the project's docs/ folder: cli.md, scenarios.md, conformance.md, ci.md, reports.md.\n")
file(WRITE ${include_file} "${text}")
execute_process(COMMAND ${HELP2MAN} --no-info --section=1
    "--name=Azure Web PubSub emulator and conformance harness" --include=${include_file}
    "--version-string=${VERSION}"
    --output=${OUTPUT} ${WPSIM}
  RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "help2man failed (${rc})")
endif()
# Debian installs man pages gzipped (-n: no name or time stamp, so the package is reproducible).
execute_process(COMMAND gzip -9 -n -f -k ${OUTPUT} RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "gzip ${OUTPUT} failed (${rc})")
endif()
