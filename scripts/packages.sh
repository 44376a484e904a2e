# Sourced by the scripts that need Debian packages (setup.sh, deb.sh,
# ha_demo.sh, citus_demo.sh): one way to find and install what is missing.
#
#   need_packages WHO PACKAGE...
# Installs the packages that are not installed yet (as root; otherwise it
# names them and exits), without starting a PostgreSQL cluster of the
# packages' own.  Sets PACKAGES_INSTALLED to the packages it installed.
need_packages() {
    local who=$1 p
    shift
    PACKAGES_INSTALLED=()
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
            PACKAGES_INSTALLED+=("$p")
    done
    [ ${#PACKAGES_INSTALLED[@]} -gt 0 ] || return 0
    if [ "$(id -u)" -ne 0 ]; then
        echo "$who: missing packages ${PACKAGES_INSTALLED[*]}; run as root to install them" >&2
        exit 1
    fi
    echo "$who: installing ${PACKAGES_INSTALLED[*]}"
    apt-get update -qq
    # Installing postgresql-15 must not start a cluster of its own here.
    mkdir -p /etc/postgresql-common
    [ -f /etc/postgresql-common/createcluster.conf ] ||
        echo "create_main_cluster = false" > /etc/postgresql-common/createcluster.conf
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
        "${PACKAGES_INSTALLED[@]}" >/dev/null
}
