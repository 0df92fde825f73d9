# shellcheck shell=bash
# Real servers in containers, for tests/integration/76-real-servers.sh and bench/: Debian 12's
# haproxy 2.6, nginx, Apache httpd with mod_ssl and memcached with TLS, from the image that
# tests/server-image.sh builds (cached) and import_servers puts into the sandbox's podman store.
# Source after tests/sandbox.sh and start_podman. Every server listens on 127.0.0.1 only.
#   CERTDIR: a host directory, mounted read-only at /certs, holding what the configs name.

SERVERS_IMAGE=localhost/ctrcert-servers

# import_servers: the cached tree into this store (~10 s on a quiet machine).
import_servers() {
        local tree
        tree=$("$(dirname "${BASH_SOURCE[0]}")/server-image.sh") || return 1
        tar -C "$tree" -c . | podman import -q - "$SERVERS_IMAGE" >/dev/null
}

# server_conf KIND PORT ID DIR: writes DIR/KIND-PORT.conf for a server serving /certs/ID* on PORT.
# haproxy reads one PEM bundle (cert, chain, key); nginx, Apache and memcached read ID-chain.pem
# (cert + chain: a client that trusts only the root needs the issuing CA from the server) and ID.key.
server_conf() {
        local kind=$1 port=$2 id=$3 dir=$4 certs=${5:-/certs}
        case $kind in
        haproxy)
                printf '%s\n' "global" "    maxconn 200" "defaults" "    mode http" "    timeout connect 2s" \
                        "    timeout client 10s" "    timeout server 10s" "frontend fe" \
                        "    bind 127.0.0.1:$port ssl crt $certs/$id.pem" \
                        "    http-request return status 200 content-type text/plain string ok" ;;
        nginx)
                printf '%s\n' "pid /tmp/nginx.pid;" "error_log stderr;" "events { worker_connections 256; }" \
                        "http {" "    access_log off;" "    server {" "        listen 127.0.0.1:$port ssl;" \
                        "        ssl_certificate $certs/$id-chain.pem;" "        ssl_certificate_key $certs/$id.key;" \
                        "        location / { return 200 \"ok\\n\"; }" "    }" "}" ;;
        httpd)
                local m=/usr/lib/apache2/modules
                printf '%s\n' "ServerRoot /etc/apache2" "DefaultRuntimeDir /tmp" "PidFile /tmp/httpd.pid" \
                        "Mutex file:/tmp default" "LoadModule mpm_event_module $m/mod_mpm_event.so" \
                        "LoadModule authz_core_module $m/mod_authz_core.so" \
                        "LoadModule socache_shmcb_module $m/mod_socache_shmcb.so" "LoadModule ssl_module $m/mod_ssl.so" \
                        "User www-data" "Group www-data" "ServerName $id.example" "ErrorLog /dev/stderr" "LogLevel warn" \
                        "Listen 127.0.0.1:$port" "SSLSessionCache shmcb:/tmp/ssl_scache(51200)" "DocumentRoot /var/www/html" \
                        "<VirtualHost 127.0.0.1:$port>" "    SSLEngine on" "    SSLCertificateFile $certs/$id-chain.pem" \
                        "    SSLCertificateKeyFile $certs/$id.key" "</VirtualHost>" ;;
        esac >"$dir/$kind-$port.conf"
}

# run_server KIND NAME PORT ID CERTDIR [PODMAN-RUN-OPTIONS…]: a container running the server the
# way its recipe in docs/migration.md says (haproxy in master-worker mode: -W; haproxy-no-W
# without it).
run_server() {
        local kind=$1 name=$2 port=$3 id=$4 certs=$5 conf=$T/servers
        shift 5
        mkdir -p "$conf"
        server_conf "${kind%-no-W}" "$port" "$id" "$conf"
        local cmd
        case $kind in
        haproxy) cmd=(haproxy -W -db -f "/conf/haproxy-$port.conf") ;;
        haproxy-no-W) cmd=(haproxy -db -f "/conf/haproxy-$port.conf") ;; # the mode that ignores reloads
        nginx) cmd=(nginx -g 'daemon off;' -c "/conf/nginx-$port.conf") ;;
        httpd) cmd=(apache2 -DFOREGROUND -f "/conf/httpd-$port.conf") ;;
        memcached) cmd=(memcached -u root -l 127.0.0.1 -p "$port" -Z -o "ssl_chain_cert=/certs/$id-chain.pem,ssl_key=/certs/$id.key") ;;
        esac
        podman run -d --init --name "$name" --network host -v "$certs:/certs:ro" -v "$conf:/conf:ro" "$@" \
                "$SERVERS_IMAGE" "${cmd[@]}" >/dev/null
}

# memcached_refresh PORT: the exec action that makes memcached re-read its certificate.
memcached_refresh() {
        printf '[sh, -c, "printf '"'"'refresh_certs\\\\r\\\\nquit\\\\r\\\\n'"'"' | openssl s_client -quiet -ign_eof -connect 127.0.0.1:%s 2>/dev/null | grep -q ^OK"]' "$1"
}

# chain_verifies PORT ROOT: a client that trusts only ROOT accepts what PORT serves.
chain_verifies() {
        echo | timeout 10 openssl s_client -connect "127.0.0.1:$1" -CAfile "$2" -verify_return_error 2>/dev/null |
                grep -q 'Verify return code: 0 (ok)'
}
