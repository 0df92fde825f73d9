"""systemd's Manager for ctrcert's tests, for python3-dbusmock.

No systemd manager runs on the test machines (PID 1 is not systemd), so the
agent's systemd runtime is tested against this mock: RestartUnit, ReloadUnit
and KillUnit, each recorded in dbusmock's call log (-l FILE).
Run: /usr/bin/python3 -m dbusmock --template tests/systemd_mock.py -l LOG
"""

BUS_NAME = 'org.freedesktop.systemd1'
MAIN_OBJ = '/org/freedesktop/systemd1'
MAIN_IFACE = 'org.freedesktop.systemd1.Manager'
SYSTEM_BUS = True


def load(mock, _parameters):
    mock.AddProperties(MAIN_IFACE, {'Version': 'v252-ctrcert-mock'})
    mock.AddMethods(MAIN_IFACE, [
        ('RestartUnit', 'ss', 'o', 'ret = "/org/freedesktop/systemd1/job/1"'),
        ('ReloadUnit', 'ss', 'o', 'ret = "/org/freedesktop/systemd1/job/2"'),
        ('KillUnit', 'ssi', '', ''),
    ])
