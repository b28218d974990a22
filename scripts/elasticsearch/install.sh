#!/usr/bin/env bash
# Fetches the official Elasticsearch integ-test distribution (a zip on Maven Central) with Maven,
# unpacks it into .vendor/elasticsearch-<version>/ and adds the `cjk` analyzer the index templates
# use; safe to run again (it skips what is there). Prints the Elasticsearch home on its last line.
#
# Why the extra steps:
# - The integ-test zip ships without the analysis-common module, so the built-in `cjk` analyzer
#   is missing. cjk-analysis-plugin/ registers it from the same Lucene class (CJKAnalyzer, in the
#   zip's lib/) that Elasticsearch's own provider wraps; compiling it needs a JDK (javac).
# - Elasticsearch refuses to run as root, so as root this creates the system user `eswi-es`
#   that eswi_assets_tests.es_node starts the node as.
#
# The version is pinned so every machine tests the same node: 8.19.21 is the newest 8.x in Maven
# Central's maven-metadata.xml for the artifact (checked when it was chosen), and the Python client
# is 8.19 to match. ESWI_ES_VERSION overrides it.
set -euo pipefail
cd "$(dirname "$0")/../.."

version="${ESWI_ES_VERSION:-8.19.21}"
artifact="org.elasticsearch.distribution.integ-test-zip:elasticsearch:${version}:zip"
vendor="$PWD/.vendor"
home="$vendor/elasticsearch-${version}"
plugin_src="$PWD/scripts/elasticsearch/cjk-analysis-plugin"
plugin_dir="$home/plugins/eswi-cjk-analysis"
run_user=eswi-es

sudo=""
[ "$(id -u)" = 0 ] || sudo=sudo

need_packages=()
command -v mvn >/dev/null || need_packages+=(maven)
command -v javac >/dev/null || need_packages+=(openjdk-17-jdk-headless)
command -v unzip >/dev/null || need_packages+=(unzip)
if ((${#need_packages[@]})); then
  echo "install.sh: installing Debian packages: ${need_packages[*]}" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
    "${need_packages[@]}" >&2
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

if [ ! -x "$home/bin/elasticsearch" ]; then
  echo "install.sh: fetching $artifact" >&2
  mvn -q -B -Dstyle.color=never org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy \
    -Dartifact="$artifact" -DoutputDirectory="$work" >&2
  mkdir -p "$vendor"
  rm -rf "$home.partial"
  mkdir "$home.partial"
  unzip -q "$work/elasticsearch-${version}.zip" -d "$home.partial"
  # The zip holds one top-level elasticsearch-<version>/ folder; the rename makes it appear whole.
  mv "$home.partial/elasticsearch-${version}" "$home"
  rmdir "$home.partial"
fi

if [ ! -f "$plugin_dir/eswi-cjk-analysis.jar" ]; then
  echo "install.sh: building the cjk analyzer plugin" >&2
  mkdir -p "$work/classes" "$plugin_dir.partial"
  javac --release 17 -nowarn -cp "$home/lib/*" -d "$work/classes" "$plugin_src"/*.java >&2
  jar cf "$plugin_dir.partial/eswi-cjk-analysis.jar" -C "$work/classes" .
  sed "s/@VERSION@/${version}/g" "$plugin_src/plugin-descriptor.properties" \
    >"$plugin_dir.partial/plugin-descriptor.properties"
  rm -rf "$plugin_dir"
  mv "$plugin_dir.partial" "$plugin_dir"
fi

if [ "$(id -u)" = 0 ] && ! id "$run_user" >/dev/null 2>&1; then
  useradd --system --no-create-home --shell /usr/sbin/nologin "$run_user"
fi

echo "$home"
