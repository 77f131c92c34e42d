# The Debian package, built by `cpack -G DEB` in the build directory (see
# packaging/check-package): /usr/bin/blindrouter, the default node directory
# /etc/blindrouter, the systemd unit, and a postinst that creates the system user.
install(TARGETS blindrouter RUNTIME DESTINATION bin)
install(FILES ${CMAKE_CURRENT_LIST_DIR}/config.json DESTINATION /etc/blindrouter)
install(FILES ${CMAKE_CURRENT_LIST_DIR}/blindrouter.service DESTINATION /lib/systemd/system)
install(FILES ${PROJECT_SOURCE_DIR}/README.md DESTINATION share/doc/blindrouter)
# `cpack` must not build every target (tests, benchmarks) first: the router is enough.
set(CMAKE_SKIP_INSTALL_ALL_DEPENDENCY TRUE)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME blindrouter)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "blindrouter maintainers <blindrouter@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "WAMP router, a drop-in for Crossbar.io, blind to end-to-end encrypted payloads")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
# Library dependencies computed by dpkg-shlibdeps; adduser for postinst.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${CMAKE_CURRENT_LIST_DIR}/deb/conffiles ${CMAKE_CURRENT_LIST_DIR}/deb/postinst
    ${CMAKE_CURRENT_LIST_DIR}/deb/prerm ${CMAKE_CURRENT_LIST_DIR}/deb/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION TRUE)
set(CPACK_STRIP_FILES TRUE)
include(CPack)
