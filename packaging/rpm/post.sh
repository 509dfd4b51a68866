# mailprobe: the state directory /var/lib/mailprobe, as the .deb's postinst makes it:
# root-owned, mode 1777 like /tmp, so that whichever user runs a plugin (icinga, nagios,
# zabbix, or a user created later) makes its own 0700 directory below it on first use.
# The monitoring users that exist now get theirs here. Kept on erase (probe keys).
mkdir -p /var/lib/mailprobe
chown root:root /var/lib/mailprobe
chmod 1777 /var/lib/mailprobe
for user in icinga nagios zabbix; do
    if getent passwd "$user" >/dev/null 2>&1 && [ ! -e "/var/lib/mailprobe/$user" ]; then
        install -d -o "$user" -m 0700 "/var/lib/mailprobe/$user"
    fi
done
exit 0
