/**
 * Portuguese (Brazil): the product's own language. Sentences from UX.md are
 * kept verbatim; every other catalogue must have exactly these keys.
 */
export const ptBR = {
	"app.name": "Mindmeet",
	"app.tagline": "Chamadas de vídeo e áudio direto do navegador, no seu próprio servidor.",

	"language.label": "Idioma",
	"language.pt-BR": "Português (Brasil)",
	"language.en": "English",

	"home.create.title": "Criar uma sala",
	"home.create.name": "Seu nome",
	"home.create.namePlaceholder": "Como você quer ser chamado?",
	"home.create.mode": "Tipo de chamada",
	"home.create.modeVideo": "Vídeo",
	"home.create.modeAudio": "Só áudio",
	"home.create.submit": "Criar sala",
	"home.create.submitting": "Criando…",
	"home.signin.title": "Entre para criar salas",
	"home.signin.hintPassword":
		"Este servidor pede a senha de anfitrião da equipe. Quem só vai participar não precisa dela.",
	"home.signin.hintAccounts": "Entre com a sua conta de anfitrião. Quem só vai participar não precisa de conta.",
	"home.signin.name": "Nome da conta",
	"home.signin.password": "Senha",
	"home.signin.submit": "Entrar",
	"home.signin.submitting": "Entrando…",
	"home.signin.wrongPassword": "Senha incorreta, tente novamente",
	"home.signin.wrongCredentials": "Nome ou senha incorretos, tente novamente",
	"home.signin.expired": "Sua sessão expirou, entre novamente para criar salas",
	"home.signin.signedInAs": "Você entrou como {name}",
	"home.signin.signedInTeam": "Você entrou com a senha da equipe",
	"home.signin.signOut": "Sair",
	"home.join.title": "Entrar em uma sala",
	"home.join.code": "Código ou link da sala",
	"home.join.codePlaceholder": "Cole o link ou digite o código",
	"home.join.submit": "Entrar",
	"home.join.invalid": "Esse código ou link não parece de uma sala. Confira e tente de novo.",

	"form.nameRequired": "Digite seu nome",

	"error.generic": "Ops, aconteceu um erro, tente novamente mais tarde",

	"page.notFound": "Página não encontrada",
	"page.backHome": "Voltar para o início",

	"room.loading": "Carregando a sala…",
	"room.notFound": "Sala não encontrada ou encerrada",
	"room.loadFailed": "Não foi possível carregar a sala.",
	"room.retry": "Tentar novamente",

	"browser.noWebrtc": "Este navegador não consegue fazer chamadas de vídeo: ele não tem WebRTC.",
	"browser.unsupported": "Esta versão do navegador não funciona com as chamadas do Mindmeet.",
	"browser.whatToUse": "Abra o link em um Chrome, Edge, Firefox ou Safari atualizado.",
	"prejoin.title": "Pronto para entrar?",
	"prejoin.audioRoom": "Chamada só de áudio",
	"prejoin.cameraOff": "Câmera desligada",
	"prejoin.name": "Seu nome",
	"prejoin.knock": "Pedir para entrar",
	"prejoin.knocking": "Enviando pedido…",
	"prejoin.withoutMedia": "Você também pode entrar sem câmera e microfone.",

	"media.permission": "Este app precisa de permissão de câmera/microfone. Atualize a página e permita o acesso.",
	"media.unavailable": "Não encontramos câmera ou microfone disponíveis neste aparelho.",
	"media.mic": "Microfone",
	"media.cam": "Câmera",
	"media.micMuted": "Microfone desligado",
	"media.micLevel": "Nível do microfone",
	"media.speaker": "Alto-falante",
	"media.devices": "Microfone, câmera e alto-falante",
	"media.devicesTitle": "Áudio e vídeo",
	"media.unnamedDevice": "Dispositivo {number}",
	"media.deviceFailed": "Não foi possível usar esse dispositivo. Escolha outro.",
	"media.screenShare": "Compartilhar tela",
	"media.screenShareStop": "Parar de compartilhar a tela",
	"media.screenOf": "Tela de {name}",
	"media.screenOwn": "Você está compartilhando sua tela",
	"media.screenUnavailable": "Não há tela que o navegador possa compartilhar",
	"stage.enlarge": "Ampliar {name}",
	"stage.backToGrid": "Voltar à grade",
	"stage.followSpeaker": "Destacar quem estiver falando",
	"stage.pages": "Páginas de participantes",
	"stage.previousPage": "Página anterior de participantes",
	"stage.nextPage": "Próxima página de participantes",
	"stage.pageOf": "{page} de {pages}",

	"call.connecting": "Conectando…",
	"call.participants": "Participantes",
	"call.controls": "Controles da chamada",
	"call.you": "{name} (você)",
	"call.leave": "Sair da chamada",
	"call.disconnected": "Você foi desconectado da sala",
	"call.rejoin": "Entrar de novo",

	"waiting.title": "Aguardando o anfitrião aceitar…",
	"waiting.cancel": "Cancelar pedido",
	"waiting.denied": "O anfitrião recusou sua entrada.",
	"waiting.expired": "Ninguém respondeu a tempo. Tente pedir para entrar de novo.",
	"waiting.roomFull": "A sala está cheia agora. Peça para entrar de novo quando alguém sair.",

	"knock.title": "Pedido para entrar",
	"knock.question": "Você deseja aceitar {name} entrar na sala?",
	"knock.admit": "Aceitar",
	"knock.admitLabel": "Aceitar {name}",
	"knock.deny": "Recusar",
	"knock.denyLabel": "Recusar {name}",
	"knock.more": "Mais {count} aguardando",
	"knock.roomFull": "A sala está cheia. Aceite {name} quando alguém sair, ou recuse o pedido.",

	"invite.alone": "Parece que você está sozinho aqui, que tal chamar um amigo para conversar?",
	"invite.title": "Convidar pessoas",
	"invite.open": "Convidar pessoas",
	"invite.link": "Link da sala",
	"invite.copy": "Copiar link",
	"invite.copied": "Link da sala copiado com sucesso",
	"invite.copyManually": "Não deu para copiar sozinho: o link está selecionado, copie com Ctrl+C.",
	"invite.qr": "QR code com o link da sala",

	"participants.open": "Participantes",
	"participants.title": "Pessoas na chamada",
	"participants.host": "Anfitrião",
	"participants.kick": "Remover {name} da sala",

	"panel.close": "Fechar",

	"call.peerJoined": "{name} entrou na sala",
	"call.peerLeft": "{name} saiu da sala",
	"call.kicked": "Você foi expulso da sala",
	"call.roomClosed": "A sala foi encerrada",
	"call.nowHost": "Agora você é o anfitrião da sala",

	"refused.token": "Seu acesso a esta sala não é mais válido. Entre de novo pelo link da sala.",
	"refused.room": "Sala não encontrada ou encerrada",
	"refused.roomFull": "A sala está cheia. Tente de novo quando alguém sair.",
	"refused.serverFull": "O servidor está cheio agora. Tente de novo em alguns minutos.",
	"refused.tooManyRequests": "Sua conexão enviou pedidos demais e foi encerrada. Entre de novo pelo link da sala.",

	"toast.dismiss": "Fechar aviso",

	"chat.open": "Chat",
	"chat.openUnread": "Chat, mensagens não lidas: {count}",
	"chat.title": "Mensagens",
	"chat.history": "Histórico de mensagens",
	"chat.empty": "Nenhuma mensagem ainda. Que tal dizer oi?",
	"chat.inputLabel": "Mensagem",
	"chat.placeholder": "Escreva uma mensagem",
	"chat.hint": "Enter envia; Shift+Enter quebra a linha.",
	"chat.send": "Enviar",
	"chat.older": "Mensagens anteriores",
	"chat.rateLimited": "Você está enviando mensagens rápido demais. Aguarde um instante.",
	"chat.newMessage": "Nova mensagem de {name}: {text}",

	"sounds.toggle": "Sons",

	"shortcut.hint": "{label} ({keys})",

	"call.reconnecting": "Reconectando…",
	"call.reconnected": "Reconectado",
	"call.goingHome": "Voltando para o início em {seconds} s",
};

export type MessageKey = keyof typeof ptBR;

/** Every key, for tests that walk the catalogues (en has exactly the same ones). */
export const messageKeys = Object.keys(ptBR) as MessageKey[];
