# mailprobe: create the state directory (probe key, async state) on first install.
if [ ! -d /var/lib/mailprobe ]; then
    mkdir -p /var/lib/mailprobe
    chmod 0750 /var/lib/mailprobe
    # The plugins run as the monitoring user: Icinga 2 and Nagios use "nagios".
    if getent passwd nagios >/dev/null 2>&1; then
        chown nagios: /var/lib/mailprobe
    fi
fi
exit 0
