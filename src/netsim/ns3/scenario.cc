// Packet-level simulation of a stream of split-computing frames on one link (ns-3 3.37).
//
// Two nodes joined by a point-to-point link (rate, one-way delay, MTU). The device node sends
// N frames; frame i becomes ready (the device finished computing it) at readyNs[i] and is
// written to the transport in application chunks. The server node reassembles frames and
// records when the last byte of each arrives. Random packet loss hits data packets (those
// carrying payload) in the device → server direction, so the connection handshake and the
// acknowledgements are never lost: the analytic model in src/netsim/analytic.ts makes the same
// assumption, which keeps the two comparable.
//
// TCP: one NewReno connection opened at --connectNs, no Nagle, minimum RTO --rtoMs, MSS from the
// MTU (MTU − 20 IP − 20 TCP − 12 timestamp option), initial window --initialCwnd segments, the
// receiver acknowledges every segment, socket buffers and the link queue large enough that no
// packet is dropped for lack of space (loss comes from the error model only).
// UDP: each chunk is one datagram whose first 8 bytes carry (frame index, chunk index); a frame is
// received when all its chunks are, lost when any is.
//
// Input: --frames=<file> with one "bytes readyNs" line per frame. Output: one JSON object on
// stdout: { "handshakeNs": n|null, "frames": [{ "sentNs", "receivedNs"|null, "packetsLost",
// "retransmissions" }] }.

#include <cstring>  // Debian's ns-3 3.37 headers use memcmp without including it.
#include <cstdint>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "ns3/applications-module.h"
#include "ns3/core-module.h"
#include "ns3/internet-module.h"
#include "ns3/network-module.h"
#include "ns3/point-to-point-module.h"
#include "ns3/traffic-control-module.h"

using namespace ns3;

namespace {

struct Frame {
    uint64_t bytes = 0;
    int64_t readyNs = 0;
    uint64_t offset = 0;  // first byte of the frame in the TCP stream
    uint32_t chunks = 0;  // UDP datagrams
    int64_t receivedNs = -1;
    uint32_t packetsLost = 0;
    uint32_t retransmissions = 0;
    uint32_t chunksReceived = 0;
};

std::vector<Frame> g_frames;
bool g_tcp = true;
uint32_t g_chunk = 1010;
int64_t g_handshakeNs = -1;
uint64_t g_rxBytes = 0;
size_t g_nextFrame = 0;
uint64_t g_highTx = 0;  // highest TCP stream offset sent so far (for retransmission counting)

// Frame holding TCP stream offset `off` (offset 0 is the first data byte).
Frame* FrameAtOffset(uint64_t off) {
    size_t lo = 0, hi = g_frames.size();
    while (lo + 1 < hi) {
        size_t mid = (lo + hi) / 2;
        if (g_frames[mid].offset <= off) lo = mid; else hi = mid;
    }
    return g_frames.empty() ? nullptr : &g_frames[lo];
}

// Parses a packet as seen on the wire (PPP header first). Returns the frame it carries payload
// for, or nullptr for control packets (handshake, pure ACKs). `seqOffset` receives the TCP offset.
Frame* FrameOfWirePacket(Ptr<const Packet> wire, uint64_t* seqOffset, uint32_t* payload) {
    Ptr<Packet> p = wire->Copy();
    PppHeader ppp;
    p->RemoveHeader(ppp);
    Ipv4Header ip;
    p->RemoveHeader(ip);
    if (ip.GetProtocol() == TcpL4Protocol::PROT_NUMBER) {
        TcpHeader tcp;
        p->RemoveHeader(tcp);
        uint32_t size = p->GetSize();
        if (size == 0) return nullptr;
        // ns-3 starts the sequence at 0 and the SYN consumes one number.
        uint64_t off = static_cast<uint64_t>(tcp.GetSequenceNumber().GetValue()) - 1;
        if (seqOffset) *seqOffset = off;
        if (payload) *payload = size;
        return FrameAtOffset(off);
    }
    if (ip.GetProtocol() == UdpL4Protocol::PROT_NUMBER) {
        UdpHeader udp;
        p->RemoveHeader(udp);
        if (p->GetSize() < 8) return nullptr;
        uint8_t buf[8];
        p->CopyData(buf, 8);
        uint32_t frame;
        std::memcpy(&frame, buf, 4);
        if (payload) *payload = p->GetSize();
        return frame < g_frames.size() ? &g_frames[frame] : nullptr;
    }
    return nullptr;
}

}  // namespace

namespace ns3 {

// Drops data packets with probability `rate`; control packets always pass.
class DataPacketErrorModel : public ErrorModel {
  public:
    static TypeId GetTypeId() {
        static TypeId tid = TypeId("ns3::SeiDataPacketErrorModel")
                                .SetParent<ErrorModel>()
                                .AddConstructor<DataPacketErrorModel>();
        return tid;
    }
    DataPacketErrorModel() : m_rate(0) { m_random = CreateObject<UniformRandomVariable>(); }
    void SetRate(double rate) { m_rate = rate; }
    int64_t AssignStreams(int64_t stream) { m_random->SetStream(stream); return 1; }

  private:
    bool DoCorrupt(Ptr<Packet> p) override {
        if (m_rate <= 0) return false;
        Frame* f = FrameOfWirePacket(p, nullptr, nullptr);
        if (!f) return false;
        if (m_random->GetValue() >= m_rate) return false;
        f->packetsLost++;
        return true;
    }
    void DoReset() override {}
    double m_rate;
    Ptr<UniformRandomVariable> m_random;
};

NS_OBJECT_ENSURE_REGISTERED(DataPacketErrorModel);

}  // namespace ns3

namespace {

void OnDeviceTx(Ptr<const Packet> wire) {
    if (!g_tcp) return;
    uint64_t off = 0;
    uint32_t size = 0;
    Frame* f = FrameOfWirePacket(wire, &off, &size);
    if (!f) return;
    if (off < g_highTx) f->retransmissions++;
    if (off + size > g_highTx) g_highTx = off + size;
}

void WriteFrameTcp(Ptr<Socket> socket, size_t i) {
    Frame& f = g_frames[i];
    uint64_t left = f.bytes;
    while (left > 0) {
        uint32_t n = static_cast<uint32_t>(std::min<uint64_t>(left, g_chunk));
        int sent = socket->Send(Create<Packet>(n));
        if (sent < 0) {
            std::cerr << "socket send failed for frame " << i << std::endl;
            std::exit(3);
        }
        left -= n;
    }
}

void WriteFrameUdp(Ptr<Socket> socket, size_t i) {
    Frame& f = g_frames[i];
    uint64_t left = f.bytes;
    for (uint32_t c = 0; c < f.chunks; ++c) {
        uint32_t n = static_cast<uint32_t>(std::min<uint64_t>(left, g_chunk));
        if (n < 8) n = 8;  // room for the (frame, chunk) stamp
        std::vector<uint8_t> buf(n, 0);
        uint32_t frame = static_cast<uint32_t>(i);
        std::memcpy(buf.data(), &frame, 4);
        std::memcpy(buf.data() + 4, &c, 4);
        socket->Send(Create<Packet>(buf.data(), n));
        left -= std::min<uint64_t>(left, g_chunk);
    }
}

void OnTcpReceive(Ptr<Socket> socket) {
    Ptr<Packet> p;
    while ((p = socket->Recv())) {
        g_rxBytes += p->GetSize();
        while (g_nextFrame < g_frames.size() &&
               g_rxBytes >= g_frames[g_nextFrame].offset + g_frames[g_nextFrame].bytes) {
            g_frames[g_nextFrame].receivedNs = Simulator::Now().GetNanoSeconds();
            g_nextFrame++;
        }
    }
}

void OnUdpReceive(Ptr<Socket> socket) {
    Ptr<Packet> p;
    while ((p = socket->Recv())) {
        if (p->GetSize() < 8) continue;
        uint8_t buf[8];
        p->CopyData(buf, 8);
        uint32_t frame;
        std::memcpy(&frame, buf, 4);
        if (frame >= g_frames.size()) continue;
        Frame& f = g_frames[frame];
        f.chunksReceived++;
        if (f.chunksReceived == f.chunks) f.receivedNs = Simulator::Now().GetNanoSeconds();
    }
}

void OnAccept(Ptr<Socket> s, const Address&) { s->SetRecvCallback(MakeCallback(&OnTcpReceive)); }
bool OnConnectionRequest(Ptr<Socket>, const Address&) { return true; }
void OnConnected(Ptr<Socket>) { g_handshakeNs = Simulator::Now().GetNanoSeconds(); }
void OnConnectFailed(Ptr<Socket>) {
    std::cerr << "TCP connection failed" << std::endl;
    std::exit(3);
}

}  // namespace

int main(int argc, char* argv[]) {
    std::string rate = "1Gbps";
    double delayUs = 100;
    double loss = 0;
    uint32_t mtu = 1500;
    std::string transport = "tcp";
    uint32_t chunk = 1010;
    double rtoMs = 200;
    uint32_t initialCwnd = 10;
    uint32_t segmentSize = 0;
    uint32_t delAckCount = 1;
    uint32_t seed = 1;
    double connectNs = 0;
    std::string framesFile;

    CommandLine cmd;
    cmd.AddValue("rate", "link data rate (ns-3 DataRate string, e.g. 1000000bps)", rate);
    cmd.AddValue("delayUs", "one-way propagation delay in microseconds", delayUs);
    cmd.AddValue("loss", "probability that a data packet is lost", loss);
    cmd.AddValue("mtu", "link MTU in bytes", mtu);
    cmd.AddValue("transport", "tcp or udp", transport);
    cmd.AddValue("chunk", "application chunk size in bytes", chunk);
    cmd.AddValue("rtoMs", "TCP minimum retransmission timeout in ms", rtoMs);
    cmd.AddValue("initialCwnd", "TCP initial congestion window in segments", initialCwnd);
    cmd.AddValue("segmentSize", "TCP segment size in bytes (0: MTU - 52)", segmentSize);
    cmd.AddValue("delAckCount", "segments per TCP acknowledgement", delAckCount);
    cmd.AddValue("seed", "random seed (run number)", seed);
    cmd.AddValue("connectNs", "time the TCP connection is opened", connectNs);
    cmd.AddValue("frames", "file of 'bytes readyNs' lines", framesFile);
    cmd.Parse(argc, argv);

    if (transport != "tcp" && transport != "udp") {
        std::cerr << "transport must be tcp or udp" << std::endl;
        return 2;
    }
    g_tcp = transport == "tcp";
    g_chunk = chunk;
    std::ifstream in(framesFile);
    if (!in) {
        std::cerr << "cannot read frames file " << framesFile << std::endl;
        return 2;
    }
    uint64_t offset = 0;
    uint64_t bytes;
    int64_t readyNs;
    while (in >> bytes >> readyNs) {
        Frame f;
        f.bytes = bytes;
        f.readyNs = readyNs;
        f.offset = offset;
        f.chunks = static_cast<uint32_t>((bytes + chunk - 1) / chunk);
        if (f.chunks == 0) f.chunks = 1;
        offset += bytes;
        g_frames.push_back(f);
    }

    RngSeedManager::SetSeed(1);
    RngSeedManager::SetRun(seed);

    const uint32_t mss = segmentSize > 0 ? segmentSize : mtu - 20 - 20 - 12;
    Config::SetDefault("ns3::TcpL4Protocol::SocketType", TypeIdValue(TcpNewReno::GetTypeId()));
    Config::SetDefault("ns3::TcpSocket::SegmentSize", UintegerValue(mss));
    Config::SetDefault("ns3::TcpSocket::InitialCwnd", UintegerValue(initialCwnd));
    Config::SetDefault("ns3::TcpSocket::DelAckCount", UintegerValue(delAckCount));
    Config::SetDefault("ns3::TcpSocket::TcpNoDelay", BooleanValue(true));
    Config::SetDefault("ns3::TcpSocket::SndBufSize", UintegerValue(1u << 30));
    Config::SetDefault("ns3::TcpSocket::RcvBufSize", UintegerValue(1u << 30));
    Config::SetDefault("ns3::TcpSocketBase::MinRto", TimeValue(MilliSeconds(rtoMs)));

    NodeContainer nodes;
    nodes.Create(2);
    PointToPointHelper link;
    link.SetDeviceAttribute("DataRate", StringValue(rate));
    link.SetDeviceAttribute("Mtu", UintegerValue(mtu));
    link.SetChannelAttribute("Delay", TimeValue(NanoSeconds(static_cast<int64_t>(delayUs * 1000))));
    link.SetQueue("ns3::DropTailQueue<Packet>", "MaxSize", StringValue("10000000p"));
    NetDeviceContainer devices = link.Install(nodes);

    InternetStackHelper stack;
    stack.Install(nodes);
    Ipv4AddressHelper address;
    address.SetBase("10.1.1.0", "255.255.255.0");
    Ipv4InterfaceContainer ifaces = address.Assign(devices);
    // No queue discipline: the device's FIFO is the only queue, and it never drops.
    TrafficControlHelper tch;
    tch.Uninstall(devices);

    Ptr<DataPacketErrorModel> em = CreateObject<DataPacketErrorModel>();
    em->SetRate(loss);
    em->AssignStreams(seed);
    devices.Get(1)->SetAttribute("ReceiveErrorModel", PointerValue(em));
    devices.Get(0)->TraceConnectWithoutContext("PhyTxBegin", MakeCallback(&OnDeviceTx));

    const uint16_t port = 9000;
    Ptr<Socket> sender;
    if (g_tcp) {
        Ptr<Socket> listener = Socket::CreateSocket(nodes.Get(1), TcpSocketFactory::GetTypeId());
        listener->Bind(InetSocketAddress(Ipv4Address::GetAny(), port));
        listener->Listen();
        listener->SetAcceptCallback(MakeCallback(&OnConnectionRequest), MakeCallback(&OnAccept));
        sender = Socket::CreateSocket(nodes.Get(0), TcpSocketFactory::GetTypeId());
        sender->Bind();
        sender->SetConnectCallback(MakeCallback(&OnConnected), MakeCallback(&OnConnectFailed));
        Simulator::Schedule(NanoSeconds(static_cast<int64_t>(connectNs)), [sender, ifaces, port]() {
            sender->Connect(InetSocketAddress(ifaces.GetAddress(1), port));
        });
        for (size_t i = 0; i < g_frames.size(); ++i) {
            Simulator::Schedule(NanoSeconds(g_frames[i].readyNs), &WriteFrameTcp, sender, i);
        }
    } else {
        Ptr<Socket> receiver = Socket::CreateSocket(nodes.Get(1), UdpSocketFactory::GetTypeId());
        receiver->Bind(InetSocketAddress(Ipv4Address::GetAny(), port));
        receiver->SetRecvCallback(MakeCallback(&OnUdpReceive));
        sender = Socket::CreateSocket(nodes.Get(0), UdpSocketFactory::GetTypeId());
        sender->Bind();
        sender->Connect(InetSocketAddress(ifaces.GetAddress(1), port));
        for (size_t i = 0; i < g_frames.size(); ++i) {
            Simulator::Schedule(NanoSeconds(g_frames[i].readyNs), &WriteFrameUdp, sender, i);
        }
    }

    Simulator::Run();
    Simulator::Destroy();

    std::ostringstream out;
    out << "{\"handshakeNs\":";
    if (g_tcp && g_handshakeNs >= 0) out << g_handshakeNs; else out << "null";
    out << ",\"frames\":[";
    for (size_t i = 0; i < g_frames.size(); ++i) {
        const Frame& f = g_frames[i];
        if (i) out << ",";
        out << "{\"sentNs\":" << f.readyNs << ",\"receivedNs\":";
        if (f.receivedNs >= 0) out << f.receivedNs; else out << "null";
        out << ",\"packetsLost\":" << f.packetsLost << ",\"retransmissions\":" << f.retransmissions << "}";
    }
    out << "]}";
    std::cout << out.str() << std::endl;
    return 0;
}
