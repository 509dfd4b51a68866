# Install rules and CPack settings: one set of rules for `cmake --install`, the .deb and the
# .rpm (see packaging/README.md). Included from the top-level CMakeLists.txt.
#
#   cmake --build BUILD && cd BUILD && cpack -G DEB     # mailprobe_VERSION_ARCH.deb
#                                      cpack -G RPM     # mailprobe-VERSION-1.ARCH.rpm
#
# The plugin directory differs per distribution: /usr/lib/nagios/plugins on Debian,
# %{_libdir}/nagios/plugins on RPM systems. The install rules read it (and the package
# flavour) at install time from the environment variables MAILPROBE_INSTALL_PLUGIN_DIR and
# MAILPROBE_PACKAGE_FLAVOR, which packaging/CPackProjectConfig.cmake.in sets in the cpack
# process for each generator (CPack's install step sees no CPack variables); a plain
# `cmake --install` uses MAILPROBE_PLUGIN_DIR.
include(GNUInstallDirs)

# Hardening as Debian builds packages (dpkg-buildflags, hardening=+all): lintian checks it.
option(MAILPROBE_HARDENING "Build with _FORTIFY_SOURCE, stack protector, RELRO and BIND_NOW" ON)
if(MAILPROBE_HARDENING AND NOT MAILPROBE_SANITIZE)
  # _FORTIFY_SOURCE needs optimisation: not for Debug builds (its #warning breaks -Werror)
  target_compile_options(mailprobe_core PUBLIC
    -fstack-protector-strong
    $<$<AND:$<NOT:$<CONFIG:Debug>>,$<BOOL:$<CONFIG>>>:-D_FORTIFY_SOURCE=2>)
  target_link_options(mailprobe_core INTERFACE -Wl,-z,relro -Wl,-z,now)
endif()

# Who built the package and where it comes from: a packager sets both, e.g.
#   -DMAILPROBE_PACKAGE_MAINTAINER="Jane Admin <jane@example.net>" -DMAILPROBE_PACKAGE_HOMEPAGE=https://...
# The defaults say plainly that this is a local build (no made-up address a user could
# write to, no Homepage field): lintian flags the localhost address, and
# packaging.deb_lintian accepts that one tag only while the default is in use.
set(MAILPROBE_PACKAGE_MAINTAINER_DEFAULT "mailprobe local build <mailprobe@localhost>")
set(MAILPROBE_PACKAGE_MAINTAINER "${MAILPROBE_PACKAGE_MAINTAINER_DEFAULT}" CACHE STRING
    "Maintainer field of the .deb and .rpm (Name <address>)")
set(MAILPROBE_PACKAGE_HOMEPAGE "" CACHE STRING
    "Homepage field of the .deb and URL of the .rpm (empty: no such field)")
if(NOT MAILPROBE_PACKAGE_MAINTAINER MATCHES "^[^<>]+ <[^<>@ ]+@[^<>@ ]+>$")
  message(FATAL_ERROR "MAILPROBE_PACKAGE_MAINTAINER must read 'Name <address>', "
                      "not '${MAILPROBE_PACKAGE_MAINTAINER}'")
endif()
set(MAILPROBE_PLUGIN_DIR "lib/nagios/plugins" CACHE STRING
    "Plugin directory for `cmake --install` (relative to CMAKE_INSTALL_PREFIX)")
set(MAILPROBE_PACKAGE_PLUGINS check_mail_send check_mail_roundtrip check_mail_relay
                              check_mailbox_receive)
set(MAILPROBE_PKG_SRC ${PROJECT_SOURCE_DIR}/packaging)
set(MAILPROBE_PKG_BIN ${PROJECT_BINARY_DIR}/packaging)
set(MAILPROBE_DOC_DIR ${CMAKE_INSTALL_DATADIR}/doc/mailprobe)
set(MAILPROBE_DATA_DIR ${CMAKE_INSTALL_DATADIR}/mailprobe)
set(CMAKE_INSTALL_DEFAULT_DIRECTORY_PERMISSIONS
    OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE WORLD_READ WORLD_EXECUTE)

# Man pages: the committed man/*.1 (tests/packaging proves they match the option tables),
# compressed the Debian way (gzip -9n: no name, no time stamp, reproducible).
set(MAILPROBE_MAN_GZ)
foreach(plugin IN LISTS MAILPROBE_PACKAGE_PLUGINS)
  add_custom_command(
    OUTPUT ${MAILPROBE_PKG_BIN}/man/${plugin}.1.gz
    COMMAND ${CMAKE_COMMAND} -E make_directory ${MAILPROBE_PKG_BIN}/man
    COMMAND gzip -9n -c ${PROJECT_SOURCE_DIR}/man/${plugin}.1 > ${MAILPROBE_PKG_BIN}/man/${plugin}.1.gz
    DEPENDS ${PROJECT_SOURCE_DIR}/man/${plugin}.1
    COMMENT "Compressing man page ${plugin}.1")
  list(APPEND MAILPROBE_MAN_GZ ${MAILPROBE_PKG_BIN}/man/${plugin}.1.gz)
endforeach()
# The changelog's trailer lines name the packager (@MAILPROBE_PACKAGE_MAINTAINER@).
configure_file(${MAILPROBE_PKG_SRC}/changelog ${MAILPROBE_PKG_BIN}/changelog @ONLY)
add_custom_command(
  OUTPUT ${MAILPROBE_PKG_BIN}/changelog.gz
  COMMAND gzip -9n -c ${MAILPROBE_PKG_BIN}/changelog > ${MAILPROBE_PKG_BIN}/changelog.gz
  DEPENDS ${MAILPROBE_PKG_BIN}/changelog
  COMMENT "Compressing packaging/changelog")
add_custom_target(mailprobe-package-files ALL DEPENDS ${MAILPROBE_MAN_GZ}
                                                      ${MAILPROBE_PKG_BIN}/changelog.gz)

# Plugins
install(CODE "if(DEFINED ENV{MAILPROBE_INSTALL_PLUGIN_DIR})
  set(MAILPROBE_INSTALL_PLUGIN_DIR \"\$ENV{MAILPROBE_INSTALL_PLUGIN_DIR}\")
else()
  set(MAILPROBE_INSTALL_PLUGIN_DIR \"${MAILPROBE_PLUGIN_DIR}\")
endif()")
foreach(plugin IN LISTS MAILPROBE_PACKAGE_PLUGINS)
  if(TARGET ${plugin})
    install(TARGETS ${plugin} RUNTIME DESTINATION "\${MAILPROBE_INSTALL_PLUGIN_DIR}")
    # stripped like dh_strip does: also without the compiler's .comment section
    install(CODE "if(CMAKE_INSTALL_DO_STRIP)
  execute_process(COMMAND \"${CMAKE_OBJCOPY}\" --remove-section=.comment
    \"\$ENV{DESTDIR}\${CMAKE_INSTALL_PREFIX}/\${MAILPROBE_INSTALL_PLUGIN_DIR}/${plugin}\")
endif()")
  endif()
endforeach()

install(FILES ${MAILPROBE_MAN_GZ} DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)

# Monitoring-system integration
install(FILES ${MAILPROBE_PKG_SRC}/icinga2/mailprobe-commands.conf
              ${MAILPROBE_PKG_SRC}/icinga2/mailprobe-example.conf
        DESTINATION ${MAILPROBE_DATA_DIR}/icinga2)
install(FILES ${MAILPROBE_PKG_SRC}/nagios/mailprobe-commands.cfg
              ${MAILPROBE_PKG_SRC}/nagios/mailprobe-example.cfg
        DESTINATION ${MAILPROBE_DATA_DIR}/nagios)
install(FILES ${MAILPROBE_PKG_SRC}/zabbix/mailprobe_templates.yaml
        DESTINATION ${MAILPROBE_DATA_DIR}/zabbix)

# Documentation and licence: Debian wants copyright + changelog.gz in the doc dir and no
# extra licence file; RPM systems want the licence under share/licenses.
install(FILES ${PROJECT_SOURCE_DIR}/README.md DESTINATION ${MAILPROBE_DOC_DIR})
install(FILES ${MAILPROBE_PKG_SRC}/README.md DESTINATION ${MAILPROBE_DOC_DIR}
        RENAME README.integration.md)
install(CODE "
set(_mp_doc \"\${CMAKE_INSTALL_PREFIX}/${MAILPROBE_DOC_DIR}\")
if(\"\$ENV{MAILPROBE_PACKAGE_FLAVOR}\" STREQUAL \"deb\")
  file(INSTALL \"${MAILPROBE_PKG_SRC}/copyright\" \"${MAILPROBE_PKG_BIN}/changelog.gz\"
       DESTINATION \"\${_mp_doc}\"
       PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
elseif(\"\$ENV{MAILPROBE_PACKAGE_FLAVOR}\" STREQUAL \"rpm\")
  file(INSTALL \"${PROJECT_SOURCE_DIR}/LICENSE\"
       DESTINATION \"\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_DATADIR}/licenses/mailprobe\"
       PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
else()
  file(INSTALL \"${PROJECT_SOURCE_DIR}/LICENSE\" DESTINATION \"\${_mp_doc}\"
       PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
endif()
")

# ---------------------------------------------------------------- CPack
set(CPACK_PACKAGE_NAME mailprobe)
set(CPACK_PACKAGE_VENDOR "mailprobe developers")
set(CPACK_PACKAGE_CONTACT "${MAILPROBE_PACKAGE_MAINTAINER}")
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${MAILPROBE_PACKAGE_MAINTAINER}")
set(CPACK_RPM_PACKAGE_VENDOR "${MAILPROBE_PACKAGE_MAINTAINER}")
if(MAILPROBE_PACKAGE_HOMEPAGE)
  set(CPACK_PACKAGE_HOMEPAGE_URL "${MAILPROBE_PACKAGE_HOMEPAGE}")
  set(CPACK_DEBIAN_PACKAGE_HOMEPAGE "${MAILPROBE_PACKAGE_HOMEPAGE}")
  set(CPACK_RPM_PACKAGE_URL "${MAILPROBE_PACKAGE_HOMEPAGE}")
endif()
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})  # the version -V prints (common/version.hpp.in)
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "end-to-end mail delivery check plugins for Nagios, Icinga and Zabbix")
set(CPACK_PACKAGE_INSTALL_DIRECTORY mailprobe)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_RESOURCE_FILE_LICENSE ${PROJECT_SOURCE_DIR}/LICENSE)
set(CPACK_RESOURCE_FILE_README ${PROJECT_SOURCE_DIR}/README.md)
set(CPACK_STRIP_FILES ON)
set(CPACK_INSTALL_DEFAULT_DIRECTORY_PERMISSIONS ${CMAKE_INSTALL_DEFAULT_DIRECTORY_PERMISSIONS})
set(CPACK_PROJECT_CONFIG_FILE ${MAILPROBE_PKG_BIN}/CPackProjectConfig.cmake)
set(MAILPROBE_LONG_DESCRIPTION
"mailprobe sends a uniquely tagged probe message the way real mail travels,
finds it in the mailbox over IMAP or POP3, measures every stage and the
delivery latency, deletes only its own probe (proven by an HMAC tag) and
alerts when the probe does not arrive in time. Four plugins: check_mail_send,
check_mail_roundtrip, check_mail_relay and check_mailbox_receive.

Includes man pages, Icinga 2 CheckCommand definitions, Nagios command
definitions and Zabbix 6.0 templates (using the JSON output mode).")
set(CPACK_PACKAGE_DESCRIPTION "${MAILPROBE_LONG_DESCRIPTION}")

find_program(MAILPROBE_RPMBUILD rpmbuild)
if(MAILPROBE_RPMBUILD)
  set(CPACK_GENERATOR DEB RPM)
else()
  set(CPACK_GENERATOR DEB)
endif()

# Debian: dependencies from the linked libraries (dpkg-shlibdeps), architecture from dpkg.
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_ENHANCES "icinga2, nagios4")
# No Conflicts: our SMTP plugin was renamed from check_smtp_send (the name
# monitoring-plugins-contrib ships) to check_mail_send, so both packages co-install.
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA ${MAILPROBE_PKG_SRC}/debian/postinst
                                       ${MAILPROBE_PKG_SRC}/debian/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION TRUE)

# RPM: dependencies from the linked libraries (rpmbuild's automatic requirements).
set(CPACK_RPM_FILE_NAME RPM-DEFAULT)
set(CPACK_RPM_PACKAGE_LICENSE MIT)
set(CPACK_RPM_PACKAGE_GROUP "Applications/System")
set(CPACK_RPM_PACKAGE_DESCRIPTION "${MAILPROBE_LONG_DESCRIPTION}")
set(CPACK_RPM_PACKAGE_AUTOREQ ON)
set(CPACK_RPM_PACKAGE_AUTOPROV OFF)
set(CPACK_RPM_POST_INSTALL_SCRIPT_FILE ${MAILPROBE_PKG_SRC}/rpm/post.sh)
set(CPACK_RPM_EXCLUDE_FROM_AUTO_FILELIST_ADDITION
    /usr/share/man /usr/share/man/man1 /usr/share/licenses)

configure_file(${MAILPROBE_PKG_SRC}/CPackProjectConfig.cmake.in
               ${MAILPROBE_PKG_BIN}/CPackProjectConfig.cmake @ONLY)
include(CPack)
