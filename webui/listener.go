package webui

import (
	"net"
	"sync"
)

// multiListener merges several listeners (plain and TLS) into one, so one
// fasthttp server serves them all: fiber builds its route tree when it starts
// listening, and starting it twice would rebuild the tree under a live server.
// A *tls.Conn still reports TLS to the handler (c.Protocol() is "https").
type multiListener struct {
	lns   []net.Listener
	conns chan net.Conn
	errs  chan error
	done  chan struct{}
	once  sync.Once
}

func newMultiListener(lns ...net.Listener) *multiListener {
	m := &multiListener{
		lns:   lns,
		conns: make(chan net.Conn),
		errs:  make(chan error, len(lns)),
		done:  make(chan struct{}),
	}
	for _, ln := range lns {
		go m.accept(ln)
	}
	return m
}

func (m *multiListener) accept(ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			select {
			case m.errs <- err:
			case <-m.done:
			}
			return
		}
		select {
		case m.conns <- c:
		case <-m.done:
			c.Close()
			return
		}
	}
}

func (m *multiListener) Accept() (net.Conn, error) {
	select {
	case c := <-m.conns:
		return c, nil
	case err := <-m.errs:
		return nil, err
	case <-m.done:
		return nil, net.ErrClosed
	}
}

func (m *multiListener) Close() error {
	var err error
	m.once.Do(func() {
		close(m.done)
		for _, ln := range m.lns {
			if cerr := ln.Close(); cerr != nil && err == nil {
				err = cerr
			}
		}
	})
	return err
}

func (m *multiListener) Addr() net.Addr { return m.lns[0].Addr() }
