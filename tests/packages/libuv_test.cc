#include <gtest/gtest.h>
#include <uv.h>

#include <cstring>
#include <string>

namespace {

TEST(LibuvPackage, RunsATimer) {
  uv_loop_t loop;
  ASSERT_EQ(uv_loop_init(&loop), 0);
  uv_timer_t timer;
  uv_timer_init(&loop, &timer);
  int fired = 0;
  timer.data = &fired;
  uv_timer_start(&timer, [](uv_timer_t* t) { ++*static_cast<int*>(t->data); }, 1, 0);
  uv_run(&loop, UV_RUN_DEFAULT);
  EXPECT_EQ(fired, 1);
  uv_close(reinterpret_cast<uv_handle_t*>(&timer), nullptr);
  uv_run(&loop, UV_RUN_DEFAULT);
  EXPECT_EQ(uv_loop_close(&loop), 0);
}

// A TCP echo over 127.0.0.1: the server echoes what it reads; the client sends, reads it back
// and closes everything.
struct EchoState {
  uv_tcp_t server, server_side, client;
  uv_connect_t connect_req;
  uv_write_t client_write, echo_write;
  std::string received;
  std::string echo_buf;
  char read_buf[256];
};

void Alloc(uv_handle_t* h, size_t, uv_buf_t* buf) {
  auto* s = static_cast<EchoState*>(h->loop->data);
  *buf = uv_buf_init(s->read_buf, sizeof s->read_buf);
}

TEST(LibuvPackage, EchoesOverLoopbackTcp) {
  uv_loop_t loop;
  ASSERT_EQ(uv_loop_init(&loop), 0);
  EchoState s;
  loop.data = &s;
  uv_tcp_init(&loop, &s.server);
  sockaddr_in addr;
  uv_ip4_addr("127.0.0.1", 0, &addr);
  ASSERT_EQ(uv_tcp_bind(&s.server, reinterpret_cast<sockaddr*>(&addr), 0), 0);
  ASSERT_EQ(uv_listen(reinterpret_cast<uv_stream_t*>(&s.server), 8,
                      [](uv_stream_t* server, int status) {
                        ASSERT_EQ(status, 0);
                        auto* st = static_cast<EchoState*>(server->loop->data);
                        uv_tcp_init(server->loop, &st->server_side);
                        ASSERT_EQ(uv_accept(server, reinterpret_cast<uv_stream_t*>(
                                                        &st->server_side)),
                                  0);
                        uv_read_start(
                            reinterpret_cast<uv_stream_t*>(&st->server_side), Alloc,
                            [](uv_stream_t* stream, ssize_t n, const uv_buf_t* buf) {
                              auto* st2 = static_cast<EchoState*>(stream->loop->data);
                              if (n <= 0) return;
                              st2->echo_buf.assign(buf->base, static_cast<size_t>(n));
                              uv_buf_t out = uv_buf_init(st2->echo_buf.data(),
                                                         static_cast<unsigned>(n));
                              uv_write(&st2->echo_write, stream, &out, 1, nullptr);
                            });
                      }),
            0);
  int len = sizeof addr;
  uv_tcp_getsockname(&s.server, reinterpret_cast<sockaddr*>(&addr), &len);

  uv_tcp_init(&loop, &s.client);
  ASSERT_EQ(uv_tcp_connect(&s.connect_req, &s.client, reinterpret_cast<sockaddr*>(&addr),
                           [](uv_connect_t* req, int status) {
                             ASSERT_EQ(status, 0);
                             auto* st = static_cast<EchoState*>(req->handle->loop->data);
                             static char msg[] = "ping over loopback";
                             uv_buf_t out = uv_buf_init(msg, sizeof msg - 1);
                             uv_write(&st->client_write, req->handle, &out, 1, nullptr);
                             uv_read_start(req->handle, Alloc,
                                           [](uv_stream_t* stream, ssize_t n, const uv_buf_t* buf) {
                                             auto* st2 =
                                                 static_cast<EchoState*>(stream->loop->data);
                                             if (n > 0) st2->received.append(buf->base, n);
                                             if (st2->received.size() >= 18) {
                                               uv_close(reinterpret_cast<uv_handle_t*>(&st2->client), nullptr);
                                               uv_close(reinterpret_cast<uv_handle_t*>(&st2->server_side), nullptr);
                                               uv_close(reinterpret_cast<uv_handle_t*>(&st2->server), nullptr);
                                             }
                                           });
                           }),
            0);
  uv_run(&loop, UV_RUN_DEFAULT);
  EXPECT_EQ(s.received, "ping over loopback");
  EXPECT_EQ(uv_loop_close(&loop), 0);
}

}  // namespace
