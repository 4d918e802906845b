module gotimer.test/synctest

go 1.25
