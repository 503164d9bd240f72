module symfixgo

go 1.19
